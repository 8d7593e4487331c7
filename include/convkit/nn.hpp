#pragma once
// Modules, initialisers and optimizers (includes the ops they use).
#include "models/alexnet.hpp"
#include "models/lenet.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "nn/module.hpp"
#include "nn/sequential.hpp"
#include "optim/adam.hpp"
#include "optim/sgd.hpp"
