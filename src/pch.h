// Precompiled header for every LibTorch target (see CMakeLists.txt).
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>
