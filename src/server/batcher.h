// The server's names for the dynamic batcher (batching/batcher.h), which `optic serve` runs per
// model version and `optic bench --scenario server` measures. ModelStats (model_stats.h) is its
// observer.
#pragma once

#include "batching/batcher.h"
#include "model_stats.h"

namespace optic::server {

using Clock = batching::Clock;
using InferRequest = batching::Request;
using batching::BatcherOptions;
using batching::DynamicBatcher;
using batching::InputStage;
using batching::QueuePolicy;

}  // namespace optic::server
