// optic serve --model-repository DIR and/or --model [NAME=]FILE ...: a KServe v2
// (Triton-compatible) inference server over HTTP/1.1 and gRPC with dynamic batching.
// SIGTERM/SIGINT: ready turns false, new inferences get 503, in-flight ones finish (up to
// --exit-timeout-s), then the process exits.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "commands.h"
#include "server/gpu_metrics.h"
#include "server/grpc_server.h"
#include "server/http_server.h"
#include "server/router.h"

namespace optic::cli {
namespace {

struct Flags {
  std::string repository, host = "127.0.0.1", auth_token;
  std::vector<std::string> models;  // [NAME=]FILE
  int port = 8000, grpc_port = 8001, threads = 2, exit_timeout_s = 30;
  double max_body_mb = 64;
  int64_t max_elements = int64_t{1} << 27;
  int64_t max_image_pixels = 0;
  bool exit_on_error = false;
};

// "[NAME=]FILE" -> name and file; the name defaults to the file's stem ("resnet50.onnx" ->
// "resnet50"). A '=' only splits off a name when the part before it has no '/'.
void SplitModelFlag(const std::string& flag, std::string* name, std::string* file) {
  const size_t eq = flag.find('=');
  if (eq != std::string::npos && eq > 0 && flag.substr(0, eq).find('/') == std::string::npos) {
    *name = flag.substr(0, eq);
    *file = flag.substr(eq + 1);
    return;
  }
  *file = flag;
  *name = std::filesystem::path(flag).stem().string();
}

int Run(const Flags& f) {
  // Signals are taken synchronously by this thread; block them before any other thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (f.repository.empty() && f.models.empty()) {
    std::cerr << "optic serve: nothing to serve: give --model-repository DIR and/or --model FILE\n";
    return 2;
  }
  server::ModelRepository repository(f.repository);
  repository.set_max_image_pixels(f.max_image_pixels);
  for (const std::string& flag : f.models) {
    std::string name, file;
    SplitModelFlag(flag, &name, &file);
    std::error_code ec;
    Status added = std::filesystem::exists(file, ec)
                       ? repository.AddModelFile(name, file)
                       : Status::NotFound("'" + file + "' does not exist");
    if (!added.ok()) {
      std::cerr << "optic serve: --model " << flag << ": " << added.message() << "\n";
      return 2;
    }
  }
  server::HttpOptions http_options;
  http_options.host = f.host;
  http_options.port = f.port;
  http_options.threads = f.threads;
  http_options.max_body_bytes = static_cast<uint64_t>(f.max_body_mb * 1024 * 1024);
  server::HttpServer http(http_options);
  server::RouterOptions router_options;
  router_options.limits.max_elements = f.max_elements;
  router_options.auth_token = f.auth_token;
  if (router_options.auth_token.empty()) {
    if (const char* env = std::getenv("OPTIC_AUTH_TOKEN")) router_options.auth_token = env;
  }
  server::Router router(&repository, router_options,
                        [&http](std::function<void()> fn) { http.Post(std::move(fn)); });
  http.set_router(&router);
  // Listen first: live answers during loading and warm-up, ready only once every model is.
  Status s = http.Start();
  if (!s.ok()) {
    std::cerr << "optic serve: " << s.ToString() << "\n";
    return 2;
  }
  server::StartGpuMetrics();
  s = repository.LoadAll();
  for (const auto& e : repository.Index()) {
    std::fprintf(stderr, "optic serve: model %-20s %-11s %s\n", e.name.c_str(), e.state.c_str(),
                 e.state == "READY" ? ("version " + e.version).c_str() : e.reason.c_str());
  }
  if (!s.ok() && (f.exit_on_error || repository.Loaded().empty())) {
    std::cerr << "optic serve: " << s.ToString() << "\n";
    http.Stop();
    return 2;
  }
  std::unique_ptr<server::GrpcServer> grpc;
  if (f.grpc_port >= 0) {
    server::GrpcOptions grpc_options;
    grpc_options.host = f.host;
    grpc_options.port = f.grpc_port;
    grpc_options.max_message_bytes = http_options.max_body_bytes;
    grpc = std::make_unique<server::GrpcServer>(grpc_options, router.service());
    s = grpc->Start();
    if (!s.ok()) {
      std::cerr << "optic serve: " << s.ToString() << "\n";
      http.Stop();
      return 2;
    }
  }
  // One line, so scripts that wait for "listening on http://HOST:PORT" also learn the gRPC port.
  std::printf("optic serve: listening on http://%s:%d%s\n", f.host.c_str(), http.port(),
              grpc ? (", grpc " + f.host + ":" + std::to_string(grpc->port())).c_str() : "");
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  router.BeginShutdown();
  std::fprintf(stderr, "optic serve: signal %d: draining %lld in-flight requests (up to %d s)\n",
               sig, static_cast<long long>(router.InFlight()), f.exit_timeout_s);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(f.exit_timeout_s);
  while (router.InFlight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (router.InFlight() > 0) {
    std::fprintf(stderr, "optic serve: exit timeout: %lld requests still in flight\n",
                 static_cast<long long>(router.InFlight()));
    std::fflush(stderr);
    _exit(1);  // a model may hang; do not wait on it
  }
  // Let the last replies reach the socket before the threads stop.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (grpc) grpc->Stop();
  http.Stop();
  repository.UnloadAll();
  std::fprintf(stderr, "optic serve: stopped\n");
  return 0;
}

void AddServeCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve a model repository or model files over KServe v2 HTTP and gRPC (Triton-compatible)");
  auto f = std::make_shared<Flags>();
  cmd->add_option("--model-repository", f->repository,
                  "Triton-style repository directory (folders with or without config.pbtxt)");
  cmd->add_option("--model", f->models,
                  "[NAME=]FILE: serve a model file with its config completed from the model "
                  "(repeatable; NAME defaults to the file's stem)");
  cmd->add_option("--host", f->host, "bind address (default loopback)");
  cmd->add_option("--http-port", f->port, "HTTP port (0: any free port)")->check(CLI::Range(0, 65535));
  cmd->add_option("--grpc-port", f->grpc_port, "gRPC port (0: any free port, -1: no gRPC)")
      ->check(CLI::Range(-1, 65535));
  cmd->add_option("--http-threads", f->threads, "HTTP I/O threads")->check(CLI::Range(1, 256));
  cmd->add_option("--max-body-mb", f->max_body_mb, "largest request body (413 above)")->check(CLI::PositiveNumber);
  cmd->add_option("--max-elements", f->max_elements, "largest tensor in elements (400 above)")->check(CLI::PositiveNumber);
  cmd->add_option("--max-image-pixels", f->max_image_pixels,
                  "JPEG-in models: cap on width*height per image, over each config's max_pixels (400 above)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--auth-token", f->auth_token, "require 'Authorization: Bearer TOKEN' ($OPTIC_AUTH_TOKEN)");
  cmd->add_option("--exit-timeout-s", f->exit_timeout_s, "drain time after SIGTERM")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--exit-on-error", f->exit_on_error, "exit when any model fails to load");
  cmd->callback([&ctx, f] { ctx.exit_code = Run(*f); });
}

const CommandRegistrar kRegistrar("serve", AddServeCommand);

}  // namespace
}  // namespace optic::cli
