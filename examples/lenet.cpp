// d2l 6.6: LeNet trained on Fashion-MNIST, as the book's train_ch6.
//
//   lenet [--epochs 10] [--lr 0.9] [--batch-size 256] [--threads N] [--seed 0]
//         [--data DIR] [--model d2l|modern|alexnet] [--save PATH] [--resume PATH]
//         [--evaluate PATH] [--plot PATH] [--limit N]
#include <convkit/convkit.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "training.hpp"

namespace {

struct Args {
  int epochs = 10;
  std::string optimizer;    // default: sgd for d2l (the book's), adam for modern
  double lr = -1;           // default: 0.9 for d2l (the book's), 1e-3 for modern
  double momentum = -1;     // default: 0 for d2l, 0.9 for modern
  int64_t batch_size = -1;  // default: 256 for d2l (the book's), 64 for modern
  int threads = 0;          // 0: leave the default
  uint64_t seed = 0;
  std::string data = ck::data::default_fashion_mnist_dir();
  std::string model = "d2l";
  std::string save, resume, evaluate, plot = "lenet.svg";
  int64_t limit = 0;  // 0: the whole training set
  std::string device = "cpu";
};

[[noreturn]] void usage(const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "lenet: %s\n\n", error.c_str());
  std::fprintf(stderr,
               "usage: lenet [options]\n"
               "  --epochs N        training epochs (10)\n"
               "  --optimizer NAME  sgd (default for d2l and alexnet, as the book) or adam (default for modern)\n"
               "  --lr X            learning rate (0.9 for d2l and 0.01 for alexnet, as the book; 1e-3 for modern)\n"
               "  --momentum X      SGD momentum (0)\n"
               "  --batch-size N    mini-batch size (256 for d2l and 128 for alexnet, as the book; 64 for modern)\n"
               "  --threads N       CPU threads (default: every core)\n"
               "  --seed N          seed for initialisation and shuffling (0)\n"
               "  --data DIR        folder with the four Fashion-MNIST/MNIST IDX files\n"
               "                    (default %s)\n"
               "  --model NAME      d2l (sigmoid + average pooling, the book's), modern (ReLU + max pooling)\n"
               "                    or alexnet (d2l 7.1, on the images resized to 224x224)\n"
               "  --save PATH       write the trained parameters (safetensors) to PATH\n"
               "  --resume PATH     start from the parameters in PATH\n"
               "  --evaluate PATH   only evaluate the parameters in PATH on the test set\n"
               "  --plot PATH       the training curves as SVG (lenet.svg; 'none' to skip)\n"
               "  --limit N         train on the first N images only (quick runs)\n"
               "  --device NAME     cpu (default) or cuda (falls back to the CPU, saying so, without a GPU)\n",
               ck::data::default_fashion_mnist_dir());
  std::exit(error.empty() ? 0 : 2);
}

Args parse(int argc, char** argv) {
  Args a;
  examples::parse_options(argc, argv,
                          {{"--epochs", [&](const std::string& v) { a.epochs = std::stoi(v); }},
                           {"--optimizer", [&](const std::string& v) { a.optimizer = v; }},
                           {"--lr", [&](const std::string& v) { a.lr = std::stod(v); }},
                           {"--momentum", [&](const std::string& v) { a.momentum = std::stod(v); }},
                           {"--batch-size", [&](const std::string& v) { a.batch_size = std::stoll(v); }},
                           {"--threads", [&](const std::string& v) { a.threads = std::stoi(v); }},
                           {"--seed", [&](const std::string& v) { a.seed = std::stoull(v); }},
                           {"--data", [&](const std::string& v) { a.data = v; }},
                           {"--model", [&](const std::string& v) { a.model = v; }},
                           {"--save", [&](const std::string& v) { a.save = v; }},
                           {"--resume", [&](const std::string& v) { a.resume = v; }},
                           {"--evaluate", [&](const std::string& v) { a.evaluate = v; }},
                           {"--plot", [&](const std::string& v) { a.plot = v; }},
                           {"--limit", [&](const std::string& v) { a.limit = std::stoll(v); }},
                           {"--device", [&](const std::string& v) { a.device = v; }}},
                          usage);
  if (a.optimizer.empty()) a.optimizer = a.model == "modern" ? "adam" : "sgd";
  if (a.optimizer != "sgd" && a.optimizer != "adam") usage("--optimizer must be sgd or adam");
  if (a.lr < 0) a.lr = a.model == "d2l" ? 0.9 : a.model == "alexnet" ? 0.01 : 1e-3;  // alexnet: d2l 7.1's
  if (a.batch_size < 0) a.batch_size = a.model == "d2l" ? 256 : a.model == "alexnet" ? 128 : 64;
  if (a.momentum < 0) a.momentum = 0.0;
  if (a.epochs < 0 || a.batch_size <= 0 || a.limit < 0 || a.threads < 0) usage("values must be positive");
  if (a.model != "d2l" && a.model != "modern" && a.model != "alexnet") usage("--model must be d2l, modern or alexnet");
  if (a.device != "cpu" && a.device != "cuda") usage("--device must be cpu or cuda");
  return a;
}

using examples::evaluate;
using examples::Net;

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  if (args.threads > 0) ck::set_num_threads(args.threads);

  ck::data::MnistDataset train_set(args.data, ck::data::Split::Train);
  ck::data::MnistDataset test_set(args.data, ck::data::Split::Test);
  if (args.limit > 0) train_set.truncate(args.limit);
  std::printf("Fashion-MNIST from %s: %lld training and %lld test images\n", args.data.c_str(),
              static_cast<long long>(train_set.size()), static_cast<long long>(test_set.size()));

  ck::Generator gen(args.seed);
  Net net = args.model == "d2l"       ? ck::models::lenet<float>(gen)
            : args.model == "alexnet" ? ck::models::alexnet<float>(gen)
                                      : ck::models::lenet_modern<float>(gen);
  ck::nn::init::initialize(net, ck::nn::init::Scheme::XavierUniform, gen);  // init.Xavier(), as train_ch6
  if (!args.resume.empty()) ck::io::load(net, args.resume);
  const ck::Device device = ck::usable_device(args.device == "cuda" ? ck::Device::cuda() : ck::Device::cpu());
  ck::data::DataLoader<float> test_iter(test_set, args.batch_size, false);
  if (args.model == "alexnet") test_iter.resize(224, 224);  // as d2l 7.1's load_data_fashion_mnist(resize=224)

  if (!args.evaluate.empty()) {
    ck::io::load(net, args.evaluate);
    net.to(device);
    const auto cm = evaluate(net, test_iter, device, train_set.class_names());
    std::printf("test acc %.3f on %lld images\n\n%s", cm.accuracy(), static_cast<long long>(cm.total()),
                cm.str().c_str());
    return 0;
  }

  net.to(device);
  std::cout << net << "\n";
  ck::data::DataLoader<float> train_iter(train_set, args.batch_size, true, args.seed);
  if (args.model == "alexnet") train_iter.resize(224, 224);
  std::unique_ptr<ck::optim::Optimizer<float>> trainer;
  if (args.optimizer == "sgd")
    trainer = std::make_unique<ck::optim::SGD<float>>(net.parameters(),
                                                      ck::optim::SGDOptions(args.lr).momentum(args.momentum));
  else
    trainer = std::make_unique<ck::optim::Adam<float>>(net.parameters(), ck::optim::AdamOptions(args.lr));
  examples::fit(net, train_iter, test_iter, train_set.class_names(), *trainer, device, args.epochs,
                "LeNet (" + args.model + ") on " + args.data, args.plot);
  if (!args.save.empty()) {
    ck::io::save(net, args.save);
    std::printf("parameters saved to %s\n", args.save.c_str());
  }
  return 0;
} catch (const ck::Error& e) {
  std::fprintf(stderr, "lenet: %s\n", e.what());
  return 1;
}
