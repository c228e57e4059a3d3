// Listing an image folder, and the SampleSource that decodes, crops, resizes and normalises its
// images on a few threads (image_decode.h, image_transform.h).
#include "runtime/data/image_folder.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include "support/error.h"
#include "runtime/data/image_decode.h"
#include "runtime/data/image_transform.h"

namespace fc::runtime::data {

namespace fs = std::filesystem;

namespace {

// Runs body(i) for i in [0, n) on up to `threads` threads; the first exception is re-thrown.
void parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& body) {
  const int workers = static_cast<int>(std::min<int64_t>(std::max(threads, 1), n));
  if (workers <= 1) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex mu;
  auto work = [&] {
    for (int64_t i; (i = next.fetch_add(1)) < n;) {
      try {
        body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        next = n;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

struct Entry {
  std::string path;
  int64_t label = 0;
  ImageSize size;
};

// (parent folder, file name) for every .jpg/.jpeg/.png under `dir`, sorted as torchvision sorts
// os.walk's tuples and then each folder's file names.
std::vector<std::string> image_files(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> found;
  for (const auto& e : fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink)) {
    const std::string p = e.path().string();
    if (e.is_regular_file() && (is_jpeg_path(p) || is_png_path(p)))
      found.emplace_back(e.path().parent_path().string(), e.path().filename().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (const auto& [parent, name] : found) out.push_back((fs::path(parent) / name).string());
  return out;
}

class ImageFolderSource final : public SampleSource {
 public:
  ImageFolderSource(std::vector<Entry> entries, const ImageFolderOptions& o, int64_t skipped)
      : entries_(std::move(entries)), o_(o), skipped_(skipped), failed_(new std::atomic<bool>[entries_.size()]) {
    for (size_t i = 0; i < entries_.size(); ++i) failed_[i] = false;
    for (int c = 0; c < o.channels; ++c) {
      const auto& m = o.normalize.mean, &s = o.normalize.std;
      mean_.push_back(m.empty() ? 0.0f : m[m.size() == 1 ? 0 : static_cast<size_t>(c)]);
      std_.push_back(s.empty() ? 1.0f : s[s.size() == 1 ? 0 : static_cast<size_t>(c)]);
    }
  }

  std::vector<int64_t> sample_shape() const override { return {o_.channels, o_.image_size, o_.image_size}; }

  void fill(const int64_t* indices, int64_t n, uint64_t seed, int64_t epoch, float* out) const override {
    const size_t per_sample = static_cast<size_t>(o_.channels) * static_cast<size_t>(o_.image_size) *
                              static_cast<size_t>(o_.image_size);
    parallel_for(n, o_.threads, [&](int64_t k) {
      make(indices[k], seed, epoch, out + static_cast<size_t>(k) * per_sample, per_sample);
    });
  }

  int64_t skipped() const override { return skipped_.load(); }

 private:
  // A sample that fails to decode (corrupt after its header) becomes zeros, i.e. the normalised
  // mean, with its label kept: batches keep their shape and order on every rank. It is reported
  // once and counted.
  void make(int64_t index, uint64_t seed, int64_t epoch, float* out, size_t per_sample) const {
    const Entry& e = entries_.at(static_cast<size_t>(index));
    CropBox box;
    if (o_.augment) {
      std::mt19937_64 gen = augment_rng(seed, epoch, index);
      box = random_resized_crop(e.size.width, e.size.height, gen);
    } else {
      box = center_crop(e.size.width, e.size.height, o_.image_size, o_.crop_fraction);
    }
    const int reduction = is_jpeg_path(e.path) ? jpeg_reduction_for(box.x1 - box.x0, box.y1 - box.y0, o_.image_size) : 1;
    try {
      // Decode only the part of the (reduced) image that the resampler reads.
      const ImageSize reduced = reduced_size(e.size, reduction);
      const double sx = static_cast<double>(reduced.width) / e.size.width;
      const double sy = static_cast<double>(reduced.height) / e.size.height;
      const PixelRect window = resize_footprint(reduced.width, reduced.height, box, sx, sy, o_.image_size);
      thread_local Image img;  // reused by this decoding thread's later images
      decode_image_into(e.path, o_.channels, reduction, img, &window);
      FC_CHECK(img.full_width == reduced.width && img.full_height == reduced.height, e.path,
               ": image size changed since the folder was listed");
      resize_box_to_chw(img, box, sx, sy, o_.image_size, mean_.data(), std_.data(), out);
    } catch (const Error& err) {
      std::fill(out, out + per_sample, 0.0f);
      if (!failed_[static_cast<size_t>(index)].exchange(true)) {
        ++skipped_;
        std::cerr << "warning: " << err.what() << "; skipped (zeros in its place)\n";
      }
    }
  }

  std::vector<Entry> entries_;
  ImageFolderOptions o_;
  std::vector<float> mean_, std_;
  mutable std::atomic<int64_t> skipped_;
  std::unique_ptr<std::atomic<bool>[]> failed_;
};

void check_normalize(const ImageFolderOptions& o) {
  for (const auto* v : {&o.normalize.mean, &o.normalize.std}) {
    FC_CHECK(v->size() <= 1 || static_cast<int>(v->size()) == o.channels, o.what.substr(0, o.what.find(": [")),
             ": [data] normalize.", v == &o.normalize.mean ? "mean" : "std", ": ", v->size(), " values for ",
             o.channels, "-channel images; give one value or one per channel");
  }
}

// Classes, files, labels and header sizes; unreadable images are warned about and left out.
struct Listing {
  std::vector<std::string> classes;
  std::vector<Entry> entries;
  int64_t skipped = 0;
};

Listing list_folder(const ImageFolderOptions& o) {
  std::error_code ec;
  FC_CHECK(fs::is_directory(o.dir, ec), o.what, ": folder not found: ", o.dir);
  Listing l;
  for (const auto& e : fs::directory_iterator(o.dir))
    if (e.is_directory()) l.classes.push_back(e.path().filename().string());
  std::sort(l.classes.begin(), l.classes.end());
  FC_CHECK(!l.classes.empty(), o.what, ": ", o.dir, " has no class sub-folders (expected one folder per class)");
  std::vector<Entry> all;
  for (size_t c = 0; c < l.classes.size(); ++c) {
    const fs::path class_dir = fs::path(o.dir) / l.classes[c];
    std::vector<std::string> files = image_files(class_dir);
    FC_CHECK(!files.empty(), o.what, ": class folder ", class_dir.string(), " has no images (.jpg, .jpeg, .png)");
    for (std::string& f : files) all.push_back({std::move(f), static_cast<int64_t>(c), {}});
  }
  std::vector<std::string> errors(all.size());
  parallel_for(static_cast<int64_t>(all.size()), o.threads, [&](int64_t i) {
    try {
      all[static_cast<size_t>(i)].size = read_image_size(all[static_cast<size_t>(i)].path);
    } catch (const Error& e) {
      errors[static_cast<size_t>(i)] = e.what();
    }
  });
  std::vector<int64_t> per_class(l.classes.size(), 0);
  for (size_t i = 0; i < all.size(); ++i) {
    if (!errors[i].empty()) {
      ++l.skipped;
      if (o.warn) std::cerr << "warning: " << errors[i] << "; skipped\n";
      continue;
    }
    ++per_class[static_cast<size_t>(all[i].label)];
    l.entries.push_back(std::move(all[i]));
  }
  for (size_t c = 0; c < l.classes.size(); ++c)
    FC_CHECK(per_class[c] > 0, o.what, ": class folder ", (fs::path(o.dir) / l.classes[c]).string(),
             " has no readable image");
  return l;
}

ir::Tensor labels_of(const std::vector<Entry>& entries) {
  ir::Tensor y(ir::DType::I64, {static_cast<int64_t>(entries.size())});
  for (size_t i = 0; i < entries.size(); ++i) y.data<int64_t>()[i] = entries[i].label;
  return y;
}

}  // namespace

Dataset load_image_folder(const ImageFolderOptions& o) {
  FC_CHECK(o.channels == 1 || o.channels == 3, o.what, ": images have 1 or 3 channels; the model wants ",
           o.channels);
  FC_CHECK(o.image_size > 0, o.what, ": image_size must be > 0");
  FC_CHECK(o.crop_fraction > 0 && o.crop_fraction <= 1, o.what, ": eval_crop_fraction must be in (0, 1], got ",
           o.crop_fraction);
  check_normalize(o);
  Listing l = list_folder(o);
  Dataset ds;
  ds.y = labels_of(l.entries);
  ds.classes = std::move(l.classes);
  ds.source = std::make_shared<ImageFolderSource>(std::move(l.entries), o, l.skipped);
  return ds;
}

std::string class_index_path(const std::string& model_path) {
  return fs::path(model_path).replace_extension(".classes.txt").string();
}

void write_class_index(const std::string& model_path, const std::vector<std::string>& classes) {
  const std::string path = class_index_path(model_path);
  std::ofstream f(path, std::ios::trunc);
  FC_CHECK(f, path, ": cannot write the class index");
  for (const std::string& c : classes) f << c << "\n";
  f.flush();
  FC_CHECK(f, path, ": cannot write the class index");
}

}  // namespace fc::runtime::data
