// Image-folder datasets (recipe `[data] format = "image_folder"`): one sub-folder per class, classes
// sorted by name and files sorted within them (torchvision's ImageFolder rule: label i is the i-th
// class folder; files are found recursively, .jpg/.jpeg/.png in any letter case). Listing reads each
// image's header on `threads` threads; an unreadable one is skipped with a warning naming it. Both
// sets decode on demand: a SampleSource spreads each batch over `threads` threads, called by
// BatchLoader's prefetch thread for training (augmented) and by Dataset::slice for evaluation (the
// evaluation transform, one batch at a time: nothing of the test set is held in memory).
#pragma once

#include <string>
#include <vector>

#include "runtime/data/dataset.h"

namespace fc::runtime::data {

struct ImageFolderOptions {
  std::string dir;
  std::string what;     // names the folder's key in messages: "r.toml: [data] train_dir"
  int image_size = 224;
  bool augment = false;  // RandomResizedCrop + flip (image_transform.h); false: resize + centre crop
  double crop_fraction = 0.875;  // the centre crop's share of the resized short side (center_crop)
  int channels = 3;      // 3: RGB; 1: luminance (for models with one input channel)
  Normalize normalize;   // one value or one per channel; empty: none
  int threads = 2;
  bool warn = true;  // print a warning per skipped image (rank 0 alone, so each shows once)
};

// `source` set, x undefined (with augment false: the evaluation form). Throws fc::Error when the
// folder has no class sub-folders, a class has no readable image, or `normalize` does not fit the
// channels.
Dataset load_image_folder(const ImageFolderOptions& options);

// The class-index file written next to a trained model: MODEL's extension replaced by
// ".classes.txt", line i holding the name of class i.
std::string class_index_path(const std::string& model_path);
void write_class_index(const std::string& model_path, const std::vector<std::string>& classes);

}  // namespace fc::runtime::data
