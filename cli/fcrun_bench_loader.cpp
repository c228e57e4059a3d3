// `fcrun bench loader DIR`: how fast the image-folder loader turns a folder of JPEG/PNG files into
// decoded, augmented (RandomResizedCrop + flip), normalised batches, as training consumes them
// (BatchLoader over the folder's SampleSource: a prefetch thread, each batch spread over the
// decoding threads). bench/image_loader.py runs it beside PyTorch's DataLoader.
#include <chrono>
#include <cstdio>

#include "cli/cli_common.h"
#include "cli/fcrun_bench.h"
#include "support/error.h"
#include "runtime/data/image_folder.h"

namespace fc::cli {

int cmd_bench_loader(const std::vector<std::string>& argv) {
  Args args(argv, {"--size", "--threads", "--batch", "--batches"}, {}, "fcrun bench loader");
  FC_CHECK(args.positionals().size() == 2 && args.positionals()[0] == "loader",
           "fcrun bench loader: usage: fcrun bench loader DIR [--size 224] [--threads 2] [--batch 64] [--batches 20]");
  runtime::data::ImageFolderOptions o;
  o.dir = args.positionals()[1];
  o.what = "fcrun bench loader";
  o.image_size = args.get("--size") ? parse_int(*args.get("--size"), "--size") : 224;
  o.threads = args.get("--threads") ? parse_int(*args.get("--threads"), "--threads") : 2;
  o.augment = true;
  o.normalize = {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
  const int batch = args.get("--batch") ? parse_int(*args.get("--batch"), "--batch") : 64;
  const int batches = args.get("--batches") ? parse_int(*args.get("--batches"), "--batches") : 20;
  FC_CHECK(o.image_size > 0 && o.threads > 0 && batch > 0 && batches > 0,
           "fcrun bench loader: --size, --threads, --batch and --batches must be > 0");
  runtime::data::Dataset ds = runtime::data::load_image_folder(o);
  runtime::data::BatchLoader loader(ds, batch, true, 0);
  loader.next();  // the first batch pays for starting up; time the rest
  const auto t0 = std::chrono::steady_clock::now();
  for (int b = 0; b < batches; ++b) loader.next();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"loader\": \"fcrun\", \"threads\": %d, \"size\": %d, \"batch\": %d, \"samples\": %d, "
              "\"seconds\": %.3f, \"samples_per_sec\": %.1f}\n",
              o.threads, o.image_size, batch, batch * batches, s, batch * batches / s);
  return 0;
}

}  // namespace fc::cli
