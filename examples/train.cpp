// d2l's "Modern Convolutional Neural Networks" chapter on Fashion-MNIST: any model of
// ck::models trained with the book's settings (learning rate, batch size, image size).
//
//   train --model lenet|lenet-bn|alexnet|vgg11|nin|googlenet|resnet18|densenet
//         [--data DIR] [--format idx|folder] [--epochs 10] [--lr X] [--batch-size N] [--resize N]
//         [--threads N] [--workers N] [--seed 0] [--limit N] [--save PATH] [--resume PATH]
//         [--evaluate PATH] [--export-onnx PATH] [--plot PATH]
//
// Built with -DCONVKIT_MPI=ON and started by `mpirun -np K`, it trains data-parallel over K
// processes: each takes 1/K of every batch (the batch size stays the global one), the
// gradients are averaged, rank 0 alone prints, plots and saves.
//
// --format folder reads DIR/train and DIR/test, each a folder of class folders of PNG,
// JPEG or BMP images (torchvision's ImageFolder layout); examples/export_images writes
// Fashion-MNIST that way.
#include <algorithm>
#include <convkit/convkit.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "training.hpp"
#if defined(CONVKIT_WITH_MPI)
#include <convkit/distributed/mpi.hpp>
#endif

namespace {

/// A model of the chapter and the book's settings for it.
struct ModelSpec {
  std::function<examples::Net(ck::Generator&)> make;
  double lr;
  int64_t batch_size;
  int64_t image_size;
  const char* title;
};

const std::map<std::string, ModelSpec>& model_specs() {
  static const std::map<std::string, ModelSpec> specs = {
      {"lenet", {[](ck::Generator& g) { return ck::models::lenet<float>(g); }, 0.9, 256, 28, "LeNet (d2l 6.6)"}},
      {"lenet-bn",
       {[](ck::Generator& g) { return ck::models::lenet_bn<float>(10, g); }, 1.0, 256, 28, "BN-LeNet (d2l 7.5)"}},
      {"alexnet",
       {[](ck::Generator& g) { return ck::models::alexnet<float>(g); }, 0.01, 128, 224, "AlexNet (d2l 7.1)"}},
      {"vgg11", {[](ck::Generator& g) { return ck::models::vgg11<float>(10, g); }, 0.05, 128, 224, "VGG-11 (d2l 7.2)"}},
      {"nin", {[](ck::Generator& g) { return ck::models::nin<float>(10, g); }, 0.1, 128, 224, "NiN (d2l 7.3)"}},
      {"googlenet",
       {[](ck::Generator& g) { return ck::models::googlenet<float>(10, g); }, 0.1, 128, 96, "GoogLeNet (d2l 7.4)"}},
      {"resnet18",
       {[](ck::Generator& g) { return ck::models::resnet18<float>(10, g); }, 0.05, 256, 96, "ResNet-18 (d2l 7.6)"}},
      {"densenet",
       {[](ck::Generator& g) { return ck::models::densenet<float>(10, g); }, 0.1, 256, 96, "DenseNet (d2l 7.7)"}},
  };
  return specs;
}

struct Args {
  std::string model;
  std::string data = ck::data::default_fashion_mnist_dir();
  std::string format = "idx";
  int epochs = 10;
  double lr = -1;            // the model's book value unless given
  int64_t batch_size = -1;   // likewise
  int64_t resize = -1;       // likewise (the image side)
  int threads = 0;           // 0: leave the default
  int workers = -1;          // -1: 0 for IDX (in memory), 1 for a folder (decoding)
  std::string cache = "on";  // folder: keep decoded images in memory after their first load
  uint64_t seed = 0;
  int64_t limit = 0;       // 0: the whole training set
  int64_t test_limit = 0;  // 0: the whole test set
  std::string save, resume, evaluate, export_onnx, plot = "train.svg", device = "cpu";
};

[[noreturn]] void usage(const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "train: %s\n\n", error.c_str());
  std::fprintf(stderr, "usage: train --model NAME [options]\n  --model NAME      ");
  for (const auto& [name, spec] : model_specs()) std::fprintf(stderr, "%s ", name.c_str());
  std::fprintf(stderr,
               "\n"
               "                    (defaults, as the book: lr / batch / image side)\n");
  for (const auto& [name, spec] : model_specs())
    std::fprintf(stderr, "                      %-10s %g / %lld / %lld\n", name.c_str(), spec.lr,
                 static_cast<long long>(spec.batch_size), static_cast<long long>(spec.image_size));
  std::fprintf(stderr,
               "  --data DIR        the data: with idx, a folder with the four Fashion-MNIST/MNIST IDX\n"
               "                    files (default %s); with folder, DIR/train and DIR/test,\n"
               "                    each holding one folder of PNG/JPEG/BMP images per class\n"
               "  --format F        idx (default) or folder\n"
               "  --epochs N        training epochs (10)\n"
               "  --lr X            SGD learning rate (the model's default above)\n"
               "  --batch-size N    mini-batch size (the model's default above)\n"
               "  --resize N        image side; images are resized bilinearly a batch at a time\n"
               "  --threads N       CPU threads (default: every core)\n"
               "  --workers N       threads that load the next batches while one trains (idx 0, folder 1)\n"
               "  --cache on|off    folder: keep the decoded images in memory after the first epoch (on)\n"
               "  --seed N          seed for initialisation, dropout and shuffling (0)\n"
               "  --limit N         train on the first N images only (quick runs)\n"
               "  --test-limit N    evaluate on the first N test images only\n"
               "  --save PATH       write the parameters and buffers (safetensors) to PATH after every epoch\n"
               "  --resume PATH     start from the parameters and buffers in PATH; a checkpoint --save wrote\n"
               "                    for the same model and data goes on after its last epoch (same shuffle\n"
               "                    order as an unbroken run; dropout's random stream starts afresh)\n"
               "  --evaluate PATH   only evaluate the checkpoint in PATH on the test set\n"
               "  --export-onnx PATH  write the trained network as ONNX (evaluation mode) to PATH\n"
               "  --plot PATH       the training curves as SVG (train.svg; 'none' to skip)\n"
               "  --device NAME     cpu (default) or cuda (falls back to the CPU, saying so, without a GPU)\n",
               ck::data::default_fashion_mnist_dir());
  std::exit(error.empty() ? 0 : 2);
}

Args parse(int argc, char** argv) {
  Args a;
  examples::parse_options(argc, argv,
                          {{"--model", [&](const std::string& v) { a.model = v; }},
                           {"--data", [&](const std::string& v) { a.data = v; }},
                           {"--format", [&](const std::string& v) { a.format = v; }},
                           {"--epochs", [&](const std::string& v) { a.epochs = std::stoi(v); }},
                           {"--lr", [&](const std::string& v) { a.lr = std::stod(v); }},
                           {"--batch-size", [&](const std::string& v) { a.batch_size = std::stoll(v); }},
                           {"--resize", [&](const std::string& v) { a.resize = std::stoll(v); }},
                           {"--threads", [&](const std::string& v) { a.threads = std::stoi(v); }},
                           {"--workers", [&](const std::string& v) { a.workers = std::stoi(v); }},
                           {"--cache", [&](const std::string& v) { a.cache = v; }},
                           {"--seed", [&](const std::string& v) { a.seed = std::stoull(v); }},
                           {"--limit", [&](const std::string& v) { a.limit = std::stoll(v); }},
                           {"--test-limit", [&](const std::string& v) { a.test_limit = std::stoll(v); }},
                           {"--save", [&](const std::string& v) { a.save = v; }},
                           {"--resume", [&](const std::string& v) { a.resume = v; }},
                           {"--evaluate", [&](const std::string& v) { a.evaluate = v; }},
                           {"--export-onnx", [&](const std::string& v) { a.export_onnx = v; }},
                           {"--plot", [&](const std::string& v) { a.plot = v; }},
                           {"--device", [&](const std::string& v) { a.device = v; }}},
                          usage);
  if (a.model.empty()) usage("--model is required");
  const auto it = model_specs().find(a.model);
  if (it == model_specs().end()) usage("unknown model '" + a.model + "'");
  if (a.format != "idx" && a.format != "folder")
    usage("--format must be idx (IDX files as Debian's dataset-fashion-mnist installs them) or folder");
  if (a.workers < 0) a.workers = a.format == "folder" ? 1 : 0;
  if (a.cache != "on" && a.cache != "off") usage("--cache must be on or off");
  if (a.lr < 0) a.lr = it->second.lr;
  if (a.batch_size < 0) a.batch_size = it->second.batch_size;
  if (a.resize < 0) a.resize = it->second.image_size;
  if (a.epochs < 0 || a.batch_size <= 0 || a.limit < 0 || a.test_limit < 0 || a.threads < 0 || a.resize <= 0 ||
      a.workers > 64)
    usage("values must be positive");
  if (a.device != "cpu" && a.device != "cuda") usage("--device must be cpu or cuda");
  return a;
}

/// The first n examples of a dataset (a dataset itself: size() and get(i)).
template <class Dataset>
struct FirstN {
  const Dataset& all;
  int64_t n;
  int64_t size() const { return std::min(n, all.size()); }
  auto get(int64_t i) const { return all.get(i); }
};

/// This process's place in a data-parallel job (rank 0 of 1 without MPI).
struct Job {
  int rank = 0, size = 1;
#if defined(CONVKIT_WITH_MPI)
  const ck::distributed::ProcessGroup* world = nullptr;
#endif
};

// What a checkpoint of train says about its run, in the safetensors metadata, so that
// --resume goes on after its last epoch.
constexpr const char* kModelKey = "convkit.train.model";
constexpr const char* kDataKey = "convkit.train.data";
constexpr const char* kEpochsKey = "convkit.train.epochs";  // "loss train_acc test_acc" per epoch, ';' between

std::string data_id(const Args& args) { return args.format + ":" + args.data; }

ck::io::Metadata run_metadata(const Args& args, const std::vector<examples::EpochRecord>& records) {
  std::string epochs;
  for (const auto& r : records) {
    char line[96];
    std::snprintf(line, sizeof line, "%s%.6g %.6g %.6g", epochs.empty() ? "" : ";", r.loss, r.train_acc, r.test_acc);
    epochs += line;
  }
  return {{kModelKey, args.model}, {kDataKey, data_id(args)}, {kEpochsKey, epochs}};
}

/// The epochs already done by the run that wrote a checkpoint with `metadata`: none unless
/// it was this model on this data. Throws ck::Error on malformed figures.
std::vector<examples::EpochRecord> resumed_epochs(const Args& args, const ck::io::Metadata& metadata) {
  const auto get = [&](const char* key) {
    const auto it = metadata.find(key);
    return it == metadata.end() ? std::string() : it->second;
  };
  std::vector<examples::EpochRecord> records;
  if (get(kModelKey) != args.model || get(kDataKey) != data_id(args)) return records;
  std::istringstream all(get(kEpochsKey));
  for (std::string line; std::getline(all, line, ';');) {
    std::istringstream in(line);
    examples::EpochRecord r;
    std::string rest;
    if (!(in >> r.loss >> r.train_acc >> r.test_acc) || (in >> rest))
      throw ck::Error(ck::detail::cat("train: --resume ", args.resume, ": the metadata's epoch figures '", line,
                                      "' are not three numbers"));
    records.push_back(r);
  }
  return records;
}

/// Trains (or evaluates) on any pair of datasets of 1-channel images.
template <class TrainSet, class TestSet>
int run(const Args& args, const Job& job, const TrainSet& train_set, const TestSet& test_set,
        const std::vector<std::string>& classes, bool resize_in_loader) {
  const ModelSpec& spec = model_specs().at(args.model);
  const auto options = ck::data::DataLoaderOptions().batch_size(args.batch_size).workers(args.workers);
  ck::Generator gen(args.seed);
  examples::Net net = spec.make(gen);
  ck::nn::init::initialize(net, ck::nn::init::Scheme::XavierUniform, gen);  // d2l's init_cnn
  std::vector<examples::EpochRecord> history;  // every epoch's figures, a resumed run's included
  if (!args.resume.empty()) {
    ck::io::Metadata metadata;
    ck::io::load(net, args.resume, &metadata);
    history = resumed_epochs(args, metadata);
  }
  const ck::Device device = ck::usable_device(args.device == "cuda" ? ck::Device::cuda() : ck::Device::cpu());
  ck::data::DataLoader<float> test_iter(test_set, options);
  // The images are resized an example at a time: the whole set at 224x224 would take 12 GB.
  if (resize_in_loader) test_iter.resize(args.resize, args.resize);

  if (!args.evaluate.empty()) {
    ck::io::load(net, args.evaluate);
    net.to(device);
    const auto cm = examples::evaluate(net, test_iter, device, classes);
    if (job.rank != 0) return 0;
    std::printf("test acc %.3f on %lld images\n\n%s", cm.accuracy(), static_cast<long long>(cm.total()),
                cm.str().c_str());
    return 0;
  }

  net.to(device);
  examples::Parallel parallel;
#if defined(CONVKIT_WITH_MPI)
  std::unique_ptr<ck::distributed::DataParallel<float>> ddp;
  if (job.size > 1) {
    ddp = std::make_unique<ck::distributed::DataParallel<float>>(net, *job.world);  // rank 0's weights everywhere
    parallel.after_backward = [&] { ddp->average_gradients(); };
    parallel.sum = [&](double v) {
      job.world->allreduce(&v, 1);
      return v;
    };
    parallel.prints = job.rank == 0;
  }
#endif
  if (job.rank == 0) {
    std::cout << net << "\n";
    int64_t params = 0;
    for (const auto& p : net.parameters()) params += p.numel();
    std::printf("%lld parameters; SGD, lr %g, batch %lld, %d epochs", static_cast<long long>(params), args.lr,
                static_cast<long long>(args.batch_size), args.epochs);
    if (job.size > 1)
      std::printf("; data-parallel over %d processes (%lld examples each a step)", job.size,
                  static_cast<long long>(args.batch_size / job.size));
    std::printf("\n");
    if (!args.resume.empty() && history.empty())
      std::printf("starting from the parameters and buffers in %s\n", args.resume.c_str());
    else if (!args.resume.empty())
      std::printf("resuming after epoch %zu, from %s%s\n", history.size(), args.resume.c_str(),
                  static_cast<int>(history.size()) >= args.epochs ? " (no epoch left to train: see --epochs)" : "");
  }
  ck::data::DataLoader<float> train_iter(
      train_set, ck::data::DataLoaderOptions(options).shuffle(true).seed(args.seed).shard(job.rank, job.size));
  if (resize_in_loader) train_iter.resize(args.resize, args.resize);
  train_iter.skip_epochs(history.size());  // the shuffle goes on where the saved run stopped
  ck::optim::SGD<float> trainer(net.parameters(), args.lr);
  const std::string what = args.format == "idx" ? "Fashion-MNIST" : args.data;
  // With --save, every epoch leaves a checkpoint: a long run that stops loses one epoch at most.
  const auto checkpoint = [&](int epoch, const std::vector<examples::EpochRecord>& records) {
    history = records;
    if (args.save.empty() || epoch == args.epochs) return;
    ck::io::save(net, args.save, run_metadata(args, history));
    std::printf("epoch %d's parameters and buffers saved to %s\n", epoch, args.save.c_str());
    std::fflush(stdout);
  };
  examples::fit(net, train_iter, test_iter, classes, trainer, device, args.epochs,
                std::string(spec.title) + " on " + what, args.plot, parallel, checkpoint, history);
#if defined(CONVKIT_WITH_MPI)
  if (ddp && job.rank == 0 && ddp->steps() > 0)
    std::printf(
        "gradient averaging: %.2f ms a step on rank 0, %.2f ms of it after backward (%lld steps, %zu "
        "buckets, %lld started during backward)\n",
        1e3 * ddp->communication_seconds() / static_cast<double>(ddp->steps()),
        1e3 * ddp->exposed_seconds() / static_cast<double>(ddp->steps()), static_cast<long long>(ddp->steps()),
        ddp->bucket_count(), static_cast<long long>(ddp->buckets_started_in_backward()));
#endif
  if (job.rank != 0) return 0;  // rank 0 alone writes files
  if (!args.save.empty()) {
    ck::io::save(net, args.save, run_metadata(args, history));
    std::printf("parameters and buffers saved to %s\n", args.save.c_str());
  }
  if (!args.export_onnx.empty()) {
    net.to(ck::Device::cpu());
    net.eval();
    ck::onnx::save(net, ck::Shape{1, 1, args.resize, args.resize}, args.export_onnx);
    std::printf("ONNX model (input 'input' of N x 1 x %lld x %lld) written to %s\n",
                static_cast<long long>(args.resize), static_cast<long long>(args.resize), args.export_onnx.c_str());
  }
  return 0;
}

/// Everything main does, in one process.
int train_main(int argc, char** argv, const Job& job) {
  const Args args = parse(argc, argv);
  if (args.threads > 0) {
    ck::set_num_threads(args.threads);
  } else if (job.size > 1) {  // the processes share the machine's cores
    ck::set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / job.size));
  }
  if (args.format == "folder") {
    const auto images =
        ck::data::ImageFolderOptions().channels(1).size({args.resize, args.resize}).cache(args.cache == "on");
    const ck::data::ImageFolder<float> train_set(args.data + "/train", images), test_set(args.data + "/test", images);
    if (train_set.classes() != test_set.classes())
      throw ck::Error(ck::detail::cat("train: the class folders of '", args.data, "/train' (",
                                      train_set.classes().size(), ") and '", args.data, "/test' (",
                                      test_set.classes().size(), ") differ"));
    const FirstN<ck::data::ImageFolder<float>> train_part{train_set, args.limit > 0 ? args.limit : train_set.size()};
    const FirstN<ck::data::ImageFolder<float>> test_part{test_set,
                                                         args.test_limit > 0 ? args.test_limit : test_set.size()};
    if (job.rank == 0)
      std::printf(
          "images from %s: %lld training and %lld test images in %zu classes, at %lldx%lld; %d loader "
          "workers, cache %s\n",
          args.data.c_str(), static_cast<long long>(train_part.size()), static_cast<long long>(test_part.size()),
          train_set.classes().size(), static_cast<long long>(args.resize), static_cast<long long>(args.resize),
          args.workers, args.cache.c_str());
    return run(args, job, train_part, test_part, train_set.classes(), false);
  }
  ck::data::MnistDataset train_set(args.data, ck::data::Split::Train);
  ck::data::MnistDataset test_set(args.data, ck::data::Split::Test);
  if (args.limit > 0) train_set.truncate(args.limit);
  if (args.test_limit > 0) test_set.truncate(args.test_limit);
  if (job.rank == 0)
    std::printf("Fashion-MNIST from %s: %lld training and %lld test images, at %lldx%lld\n", args.data.c_str(),
                static_cast<long long>(train_set.size()), static_cast<long long>(test_set.size()),
                static_cast<long long>(args.resize), static_cast<long long>(args.resize));
  return run(args, job, static_cast<const ck::data::MnistDataset&>(train_set),
             static_cast<const ck::data::MnistDataset&>(test_set), train_set.class_names(),
             args.resize != train_set.images().size(2));
}

}  // namespace

int main(int argc, char** argv) {
#if defined(CONVKIT_WITH_MPI)
  const ck::distributed::ProcessGroup world(&argc, &argv);  // a job of one without mpirun
  const Job job{world.rank(), world.size(), &world};
#else
  const Job job;
#endif
  try {
    return train_main(argc, argv, job);
  } catch (const ck::Error& e) {
#if defined(CONVKIT_WITH_MPI)
    if (job.size > 1) world.abort(ck::detail::cat("train: ", e.what()));  // ends the job on every rank
#endif
    std::fprintf(stderr, "train: %s\n", e.what());
    return 1;
  }
}
