// optic._optic: load, Model (inputs, outputs, predict), backends, the bench sweep and the report,
// over the same functions as the CLI (model resolution and conversion: optic/model_source.h;
// options: ParseLoadOption; the sweep: bench/sweep.h; reports: report/report.h). The Python
// package (python/optic) wraps it; docs/python.md is the user's page.
//
// Threading: the GIL is released while a model loads, predicts, a sweep runs or a report is
// built. A Model serializes its predictions with a mutex (Model::Execute is never called
// concurrently, the C++ contract), so threads may share one; separate Models run in parallel.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include "bench/progress.h"
#include "bench/sweep.h"
#include "convert.h"
#include "optic/model_source.h"
#include "optic/predictor.h"
#include "optic/registry.h"
#include "report/report.h"
#include "results/row.h"

namespace optic::python {
namespace {

// Forwards to the backend's model and keeps the data pointers of the last batch's inputs, so a
// test can see that an array's own memory reached Model::Execute (Model._last_input_pointers).
class RecordingModel : public Model {
 public:
  explicit RecordingModel(std::unique_ptr<Model> inner) : inner_(std::move(inner)) {}
  const std::vector<TensorInfo>& inputs() const override { return inner_->inputs(); }
  const std::vector<TensorInfo>& outputs() const override { return inner_->outputs(); }
  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    last_.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) last_[i] = reinterpret_cast<uintptr_t>(inputs[i].raw());
    return inner_->Execute(inputs, outputs);
  }
  const std::vector<uintptr_t>& last() const { return last_; }

 private:
  std::unique_ptr<Model> inner_;
  std::vector<uintptr_t> last_;
};

nb::object InfoToPython(const TensorInfo& info) {
  nb::list dims;
  for (int64_t d : info.shape) {
    if (d < 0) dims.append(nb::none());
    else dims.append(d);
  }
  nb::object spec = nb::module_::import_("optic._spec").attr("TensorSpec");
  return spec(info.name, NumpyDTypeName(info.dtype), nb::tuple(dims));
}

class PyModel {
 public:
  std::string backend_name, backend_version, file, converted_by, source;
  Capabilities caps;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<RecordingModel> model;
  std::unique_ptr<Predictor> predictor;
  std::mutex mu;

  nb::list Infos(bool inputs) const {
    nb::list out;
    for (const auto& i : inputs ? model->inputs() : model->outputs()) out.append(InfoToPython(i));
    return out;
  }

  // x: one array (a model of one input), a dict {name: array}, or a sequence in input order.
  // Returns one array for one array in and one output out, else a dict {output name: array}.
  nb::object Predict(nb::handle x) {
    const auto& declared = model->inputs();
    std::vector<nb::object> keep;  // the arrays (maybe contiguous copies) alive until the end
    std::vector<Tensor> tensors(declared.size());
    std::vector<bool> bound(declared.size(), false);
    bool single = false;
    if (nb::isinstance<nb::dict>(x)) {
      nb::dict d = nb::borrow<nb::dict>(x);
      for (auto [key, value] : d) {
        const std::string name = nb::cast<std::string>(nb::str(key));
        auto it = std::find_if(declared.begin(), declared.end(),
                               [&](const TensorInfo& i) { return i.name == name; });
        if (it == declared.end()) Raise(Status::InvalidArgument(UnknownInput(name)));
        Bind(value, static_cast<size_t>(it - declared.begin()), &keep, &tensors);
        bound[static_cast<size_t>(it - declared.begin())] = true;
      }
      for (size_t i = 0; i < declared.size(); ++i) {
        if (!bound[i]) {
          Raise(Status::InvalidArgument("missing input '" + declared[i].name + "': the model takes " +
                                        InputList()));
        }
      }
    } else if (nb::isinstance<nb::list>(x) || nb::isinstance<nb::tuple>(x)) {
      nb::sequence seq = nb::borrow<nb::sequence>(x);
      const size_t n = nb::len(seq);
      if (n != declared.size()) {
        Raise(Status::InvalidArgument("got " + std::to_string(n) + " arrays; the model takes " +
                                      InputList()));
      }
      for (size_t i = 0; i < n; ++i) Bind(seq[i], i, &keep, &tensors);
    } else {
      if (declared.size() != 1) {
        Raise(Status::InvalidArgument("the model takes " + InputList() +
                                      ": pass a dict {name: array}"));
      }
      Bind(x, 0, &keep, &tensors);
      single = true;
    }
    Status s = CheckInputs(declared, tensors);
    std::vector<Tensor> outputs;
    if (s.ok()) {
      nb::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu);
      s = predictor->Predict(tensors, &outputs);
    }
    if (!s.ok()) Raise(s.Prefixed(backend_name + " '" + source + "'"));
    const auto& names = model->outputs();
    if (single && outputs.size() == 1) return TensorToNumpy(outputs[0]);
    nb::dict out;
    for (size_t i = 0; i < outputs.size(); ++i) {
      const std::string name = i < names.size() ? names[i].name : "output" + std::to_string(i);
      out[name.c_str()] = TensorToNumpy(outputs[i]);
    }
    return out;
  }

  // Per-call latency of the C++ API on this model (Predictor::Predict, batch 1, seeded input):
  // `iters` calls, each timed, in milliseconds. The baseline of the Python overhead benchmark.
  std::vector<double> TimeCppLoop(int iters) {
    std::vector<Tensor> x;
    std::vector<TensorInfo> infos;
    ThrowIfError(ConcreteInputs(model->inputs(), {}, &infos));
    for (size_t i = 0; i < infos.size(); ++i) {
      ThrowIfError(MakeInputValues(infos[i], 1, {}, 1000003ULL + i, &x.emplace_back()));
    }
    std::vector<double> ms;
    ms.reserve(iters);
    Status s;
    {
      nb::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu);
      std::vector<Tensor> y;
      using Clock = std::chrono::steady_clock;
      for (int i = 0; i < iters && s.ok(); ++i) {
        const auto t0 = Clock::now();
        s = predictor->Predict(x, &y);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    }
    ThrowIfError(s);
    return ms;
  }

 private:
  std::string InputList() const {
    std::string text = std::to_string(model->inputs().size()) + " input(s):";
    for (const auto& i : model->inputs()) {
      text += " '" + i.name + "' " + NumpyDTypeName(i.dtype) + ShapeToString(i.shape);
    }
    return text;
  }
  std::string UnknownInput(const std::string& name) const {
    return "no input named '" + name + "': the model takes " + InputList();
  }

  void Bind(nb::handle value, size_t index, std::vector<nb::object>* keep,
            std::vector<Tensor>* tensors) {
    if (NumpyArrayToTensor(value, &(*tensors)[index])) {
      keep->push_back(nb::borrow(value));
      return;
    }
    const std::string what = "input '" + model->inputs()[index].name + "'";
    nb::ndarray<> array;
    if (!nb::try_cast(value, array, false)) {
      Raise(Status::InvalidArgument(
          what + ": expected an array (NumPy, or any object with the buffer protocol or "
                 "__dlpack__, e.g. a torch or CuPy tensor), got " +
          nb::cast<std::string>(nb::str(value.type().attr("__name__")))));
    }
    nb::object held = nb::borrow(value);
    Status s = ArrayToTensor(array, what, &(*tensors)[index]);
    if (!s.ok() && array.device_type() == nb::device::cpu::value &&
        s.message().find("C-contiguous") != std::string::npos) {
      // A strided host array (a transpose, a slice) is copied once into C order.
      held = nb::module_::import_("numpy").attr("ascontiguousarray")(value);
      if (!nb::try_cast(held, array, false)) Raise(s);
      s = ArrayToTensor(array, what, &(*tensors)[index]);
    }
    ThrowIfError(s);
    if (!(*tensors)[index].is_host() && !caps.accepts_device_tensors) {
      Raise(Status::InvalidArgument(what + " is on " + DeviceName((*tensors)[index].device()) +
                                    ", but " + backend_name +
                                    " takes host inputs only: pass a CPU array"));
    }
    keep->push_back(std::move(held));
  }
};

std::unique_ptr<PyModel> Load(const std::string& model_name, const std::string& backend_name,
                              const std::map<std::string, std::string>& options,
                              const std::string& models_dir) {
  auto m = std::make_unique<PyModel>();
  m->backend_name = backend_name;
  m->source = model_name;
  Status s;
  {
    nb::gil_scoped_release release;
    s = [&]() -> Status {
      OPTIC_RETURN_IF_ERROR(CreateBackend(backend_name, &m->backend));
      LoadOptions lo;
      for (const auto& [key, value] : options) {
        OPTIC_RETURN_IF_ERROR(ParseLoadOption(*m->backend, key + "=" + value, &lo));
      }
      m->caps = m->backend->capabilities();
      m->backend_version = m->backend->version();
      // As the CLI: a zoo name takes the zoo's file for this backend; a file is loaded as it is
      // when the backend reads its format, else through FileForBackend's conversion.
      std::string file = model_name;
      bool native = m->caps.synthetic && LooksLikeModelFile(model_name);
      if (LooksLikeModelFile(model_name) && !native) {
        std::string format;
        OPTIC_RETURN_IF_ERROR(DetectModelFormat(model_name, &format).Prefixed(backend_name));
        const std::string ext = std::filesystem::path(model_name).extension().string();
        native = std::find(m->caps.file_extensions.begin(), m->caps.file_extensions.end(), ext) !=
                 m->caps.file_extensions.end();
      }
      if (!native) {
        Zoo zoo;
        ModelDescription desc;
        OPTIC_RETURN_IF_ERROR(ResolveModel(model_name, {models_dir, false}, &zoo, &desc));
        const BackendFile bf = FileForBackend(desc, &zoo, *m->backend, lo.precision);
        if (!bf.unsupported.empty()) return Status::Unsupported(bf.unsupported);
        file = bf.path;
        m->converted_by = bf.converted_by;
      }
      m->file = file;
      std::unique_ptr<Model> loaded;
      OPTIC_RETURN_IF_ERROR(m->backend->Load(file, lo, &loaded));
      m->model = std::make_unique<RecordingModel>(std::move(loaded));
      // A dynamic-batch model runs any number of rows as one batch unless batch_size is set; a
      // static one runs batches of its batch size, the last one padded.
      const bool batch_given = options.count("batch_size") > 0;
      PredictorOptions po;
      po.batch_size = (m->caps.dynamic_batch && !batch_given) ? INT_MAX : lo.batch_size;
      po.pad_last_batch = !m->caps.dynamic_batch;
      return Predictor::Create(m->model.get(), po, &m->predictor);
    }();
  }
  ThrowIfError(s);
  return m;
}

nb::list Backends() {
  nb::list out;
  for (const auto& name : BackendNames()) {
    nb::dict d;
    d["name"] = name;
    std::unique_ptr<Backend> b;
    Status s = CreateBackend(name, &b);
    d["available"] = s.ok();
    d["reason"] = s.ok() ? std::string() : s.ToString();
    if (s.ok()) {
      const Capabilities c = b->capabilities();
      d["version"] = b->version();
      nb::list devices, precisions, files, opts;
      for (DeviceType t : c.devices) devices.append(DeviceName(Device{t, 0}));
      for (Precision p : c.precisions) precisions.append(PrecisionName(p));
      for (const auto& e : c.file_extensions) files.append(e);
      for (const auto& o : b->option_specs()) opts.append(o.key);
      d["devices"] = devices;
      d["precisions"] = precisions;
      d["file_extensions"] = files;
      d["options"] = opts;
      d["dynamic_batch"] = c.dynamic_batch;
      d["synthetic"] = c.synthetic;
    }
    out.append(d);
  }
  return out;
}

// The sweep of `optic bench` with the config file's JSON keys (docs/bench.md); cells run in
// child processes of `self_exe` (the CLI installed with the package). Returns the rows as JSON
// lines (results/row.h ToLine), the schema of results files.
std::vector<std::string> RunBench(const std::string& config_json, const std::string& self_exe,
                                  const std::string& command) {
  bench::SweepOptions opt;
  nlohmann::json j = nlohmann::json::parse(config_json, nullptr, false);
  if (j.is_discarded()) Raise(Status::InvalidArgument("bench: the settings are not valid JSON"));
  ThrowIfError(bench::ConfigFromJson(j, &opt.config).Prefixed("bench"));
  ThrowIfError(bench::ValidateBackendOptions(opt.config.backend_options).Prefixed("bench"));
  opt.self_exe = self_exe;
  opt.command = command;
  bench::SweepResult result;
  Status s;
  {
    nb::gil_scoped_release release;
    bench::Progress progress(stderr, isatty(STDERR_FILENO));
    s = bench::RunSweep(opt, &progress, &result);
  }
  ThrowIfError(s.Prefixed("bench"));
  std::vector<std::string> lines;
  for (const auto& row : result.rows) lines.push_back(results::ToLine(row));
  return lines;
}

// optic report over results files: the terminal table (returned), and the HTML page and the
// Markdown summary when their paths are given.
std::string RunReport(const std::vector<std::string>& paths, const std::string& html,
                      const std::string& markdown, const std::string& title) {
  std::string text;
  Status s;
  {
    nb::gil_scoped_release release;
    s = [&]() -> Status {
      report::Report rep;
      report::ReportOptions options;
      options.inputs = paths;
      if (!title.empty()) options.title = title;
      OPTIC_RETURN_IF_ERROR(report::BuildReport(options, &rep));
      std::ostringstream terminal;
      OPTIC_RETURN_IF_ERROR(report::MakeTerminalReporter()->Write(rep, terminal));
      text = terminal.str();
      auto write = [&](const std::string& path, const report::Reporter& reporter) -> Status {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        if (!out) return Status::NotFound("report: cannot write '" + path + "'");
        OPTIC_RETURN_IF_ERROR(reporter.Write(rep, out));
        out.close();
        return out ? Status::OK() : Status::Internal("report: error writing '" + path + "'");
      };
      if (!html.empty()) {
        OPTIC_RETURN_IF_ERROR(write(html, *report::MakeHtmlReporter(report::DefaultChartJsPath())));
      }
      if (!markdown.empty()) OPTIC_RETURN_IF_ERROR(write(markdown, *report::MakeMarkdownReporter()));
      return Status::OK();
    }();
  }
  ThrowIfError(s);
  return text;
}

}  // namespace
}  // namespace optic::python

NB_MODULE(_optic, m) {
  using namespace optic::python;
  m.doc() = "optic's C++ API for Python (the optic package wraps it; see docs/python.md)";
  RegisterErrors(m);
  InitNumpy();
  nb::class_<PyModel>(m, "Model")
      .def_prop_ro("inputs", [](const PyModel& p) { return p.Infos(true); })
      .def_prop_ro("outputs", [](const PyModel& p) { return p.Infos(false); })
      .def_ro("backend", &PyModel::backend_name)
      .def_ro("backend_version", &PyModel::backend_version)
      .def_ro("file", &PyModel::file)
      .def_ro("converted_by", &PyModel::converted_by)
      .def("predict", &PyModel::Predict, nb::arg("x"))
      .def("_time_cpp_loop", &PyModel::TimeCppLoop, nb::arg("iters"))
      .def("_last_input_pointers", [](const PyModel& p) { return p.model->last(); })
      .def("__repr__", [](const PyModel& p) {
        return "<optic.Model " + p.backend_name + " '" + p.file + "'>";
      });
  m.def("_load", &Load, nb::arg("model"), nb::arg("backend"), nb::arg("options"),
        nb::arg("models_dir"));
  m.def("_backends", &Backends);
  m.def("_bench", &RunBench, nb::arg("config_json"), nb::arg("self_exe"), nb::arg("command"));
  m.def("_report", &RunReport, nb::arg("paths"), nb::arg("html"), nb::arg("markdown"),
        nb::arg("title"));
}
