#include "server/model_watcher.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/checkpoint.h"
#include "core/log.h"
#include "server/status_util.h"

namespace hnet::server {
namespace {

using hnet::v1::ModelChange;
using hnet::v1::ModelChanges;

// A file that had changed this recently when it was read may change again within the same
// timestamp tick (same stamp, other bytes), so it is read again on the next rescan.
constexpr int64_t kRecentNs = 1000000000;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Whether the file changed within kRecentNs of now. A time further in the future (set by hand,
// `tar`, another host's clock) says nothing about when the file was written: it would keep
// the file "recent", and read again on every rescan, until the clock caught up.
bool IsRecent(const FileStamp& stamp) {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto near_now = [now](int64_t t) { return t > now - kRecentNs && t < now + kRecentNs; };
  return near_now(stamp.mtime_ns) || near_now(stamp.ctime_ns);
}

void AddChange(ModelChange::Kind kind, const std::string& name, int64_t version,
               const std::string& content_hash, const std::string& path, const std::string& message,
               ModelChanges* changes) {
  ModelChange* change = changes->add_changes();
  change->set_kind(kind);
  change->set_name(name);
  change->set_version(version);
  change->set_content_hash(content_hash);
  change->set_path(path);
  change->set_message(message);
}

// True when `changes` changed the registry (not only failed loads).
bool ChangedRegistry(const ModelChanges& changes) {
  return std::any_of(changes.changes().begin(), changes.changes().end(),
                     [](const ModelChange& c) { return c.kind() != ModelChange::FAILED; });
}

// ", version V (content H) keeps serving" for the version a failed file leaves serving.
std::string StillServing(const ModelPtr& model) {
  if (model == nullptr) return "";
  return absl::StrCat(", version ", model->version, " (content ", model->content_hash,
                      ") keeps serving");
}

}  // namespace

ModelWatcher::ModelWatcher(std::shared_ptr<ModelRegistry> registry, WatcherOptions options,
                           ModelEvents events)
    : registry_(std::move(registry)), options_(std::move(options)), events_(std::move(events)) {}

ModelWatcher::~ModelWatcher() { Stop(); }

void ModelWatcher::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void ModelWatcher::RequestStop() {
  std::deque<Task> orphans;  // Nothing will run them: answer them now, not after the drain.
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    orphans.swap(tasks_);
  }
  cv_.notify_all();
  for (Task& task : orphans) {
    task.promise->set_value(absl::UnavailableError("the server is shutting down"));
  }
}

bool ModelWatcher::stop_requested() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void ModelWatcher::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
  std::deque<Task> orphans;
  {
    std::lock_guard<std::mutex> lock(mu_);
    orphans.swap(tasks_);
  }
  for (Task& task : orphans) {
    task.promise->set_value(absl::UnavailableError("the server is shutting down"));
  }
}

int64_t ModelWatcher::rescans() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rescans_;
}

std::future<ModelWatcher::Result> ModelWatcher::Post(std::function<Result()> operation) {
  Task task{std::move(operation), std::make_shared<std::promise<Result>>()};
  std::future<Result> future = task.promise->get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      task.promise->set_value(absl::UnavailableError("the server is shutting down"));
      return future;
    }
    tasks_.push_back(std::move(task));
  }
  cv_.notify_all();
  return future;
}

std::future<ModelWatcher::Result> ModelWatcher::Rescan() {
  return Post([this] { return DoRescan(); });
}

std::future<ModelWatcher::Result> ModelWatcher::Load(std::string path, std::string name,
                                                     int64_t version) {
  return Post([this, path = std::move(path), name = std::move(name), version] {
    return DoLoad(path, name, version);
  });
}

std::future<ModelWatcher::Result> ModelWatcher::Unload(std::string name, int64_t version) {
  return Post([this, name = std::move(name), version] { return DoUnload(name, version); });
}

void ModelWatcher::Loop() {
  using Clock = std::chrono::steady_clock;
  const bool periodic = !options_.dir.empty() && options_.watch_interval_s > 0;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(0.0, options_.watch_interval_s)));
  Clock::time_point next = Clock::now() + interval;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (!tasks_.empty()) {
      Task task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      try {
        task.promise->set_value(task.operation());
      } catch (const std::exception& e) {
        task.promise->set_value(absl::InternalError(absl::StrCat("model operation: ", e.what())));
      }
      lock.lock();
      continue;
    }
    if (periodic && Clock::now() >= next) {
      lock.unlock();
      try {
        DoRescan().IgnoreError();  // It logs what it changes and what fails.
      } catch (const std::exception& e) {
        log::Error("rescanning {}: {}", options_.dir, e.what());
      }
      lock.lock();
      next = Clock::now() + interval;
      continue;
    }
    if (periodic) {
      cv_.wait_until(lock, next);
    } else {
      cv_.wait(lock);
    }
  }
}

void ModelWatcher::LogSkipped(const std::vector<std::string>& skipped) {
  std::set<std::string> now(skipped.begin(), skipped.end());
  for (const std::string& reason : now) {
    if (skipped_logged_.count(reason) == 0) log::Warn("{}", reason);
  }
  skipped_logged_ = std::move(now);
}

ModelWatcher::Result ModelWatcher::DoRescan(std::vector<Leaving> leaving) {
  if (options_.dir.empty()) {
    return absl::FailedPreconditionError("the server has no --models directory to rescan");
  }
  auto scan = ScanModelDirectory(options_.dir);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++rescans_;
  }
  if (!scan.ok()) {
    // A directory that is briefly away (remount, rename) must not unload every model.
    log::Warn("rescan: {}; the loaded models keep serving", std::string(scan.status().message()));
    return scan.status();
  }
  LogSkipped(scan->skipped);
  ModelChanges changes;
  std::map<std::string, std::vector<const CheckpointFile*>> by_name;
  std::set<Key> present;
  for (const CheckpointFile& file : scan->files) {
    by_name[file.name].push_back(&file);
    present.insert({file.name, file.version});
  }
  // A name whose folder could not be listed this time is left as it is, not unloaded.
  auto gone = [&](const Key& key) {
    return present.count(key) == 0 && scan->unreadable.count(key.first) == 0;
  };
  leaving_ = std::move(leaving);
  for (const ModelPtr& model : registry_->models()) {
    if (model->source == ModelSource::kDirectory && gone({model->name, model->version})) {
      leaving_.emplace_back(model, "its checkpoint file is gone");
    }
  }
  for (auto it = files_.begin(); it != files_.end();) {
    it = gone(it->first) ? files_.erase(it) : std::next(it);
  }
  for (const auto& [name, files] : by_name) ReconcileName(name, files, &changes);
  // What no newly published version took out of the registry leaves now.
  for (const auto& [model, why] : leaving_) Unpublish(model, why, &changes);
  leaving_.clear();
  if (ChangedRegistry(changes) && events_.on_changed) events_.on_changed(registry_->size());
  return changes;
}

void ModelWatcher::ReconcileName(const std::string& name,
                                 const std::vector<const CheckpointFile*>& files,
                                 ModelChanges* changes) {
  std::set<int64_t, std::greater<>> admin;  // Versions loaded through ModelAdmin.
  for (const ModelPtr& model : registry_->Versions(name)) {
    if (model->source == ModelSource::kAdmin && WhyLeaving(model) == nullptr) {
      admin.insert(model->version);
    }
  }
  // Walk versions from the highest down, admin and directory merged, until keep_versions
  // of them serve. An admin version shadows a file of the same version.
  const int keep = std::max(1, registry_->options().keep_versions);
  int kept = 0;
  auto file = files.begin();
  auto loaded = admin.begin();
  while (kept < keep && (file != files.end() || loaded != admin.end())) {
    if (stop_requested()) return;  // Shutting down: the rest can wait for no one.
    if (loaded != admin.end() && (file == files.end() || *loaded >= (*file)->version)) {
      if (file != files.end() && *loaded == (*file)->version) ++file;
      ++loaded;
      ++kept;
      continue;
    }
    const CheckpointFile& current = **file++;
    FileState& state = files_[{name, current.version}];
    if (state.unloaded) {
      if (current.stamp == state.unloaded_stamp) continue;
      state.unloaded = false;  // Changed since it was unloaded: serve it again.
    }
    if (Refresh(current, state, changes)) ++kept;
  }
}

bool ModelWatcher::Refresh(const CheckpointFile& file, FileState& state, ModelChanges* changes) {
  // A leaving version is not this file's current load: were the file to change during an
  // Unload, it is read again and published in the leaving one's place.
  auto found = registry_->Find(file.name, file.version);
  const ModelPtr current =
      found.ok() && (*found)->source == ModelSource::kDirectory && WhyLeaving(*found) == nullptr
          ? *found
          : nullptr;
  const bool same_state = state.path == file.path && state.stamp == file.stamp;
  if (current != nullptr && state.verified && same_state && !state.recent) return true;
  if (!state.failure.empty() && state.permanent && same_state) return current != nullptr;

  auto fail = [&](const absl::Status& status) {
    const std::string message(status.message());
    if (!same_state || state.failure != message) {  // Once per file state.
      log::Warn("model {} version {}: {}; not loading it{}", file.name, file.version, message,
                StillServing(current));
    }
    state.path = file.path;
    state.stamp = file.stamp;
    state.verified = false;
    state.failure = message;
    state.permanent = absl::IsUnimplemented(status);
    AddChange(ModelChange::FAILED, file.name, file.version, "", file.path, message, changes);
    return current != nullptr;
  };
  const auto start = std::chrono::steady_clock::now();
  uint32_t crc = 0;
  auto ckpt = core::ReadCheckpoint(file.path, &crc);
  if (!ckpt.ok()) return fail(ckpt.status());
  const std::string hash = absl::StrFormat("%08x", crc);
  auto after = StatFile(file.path);
  state.path = file.path;
  state.stamp = file.stamp;
  state.failure.clear();
  state.permanent = false;
  state.recent = IsRecent(file.stamp) || !after.ok() || *after != file.stamp;
  if (current != nullptr && current->path == file.path && current->content_hash == hash) {
    state.verified = true;  // Touched, or loaded before the watcher knew the file.
    return true;
  }
  auto model =
      BuildModel(*ckpt, crc, ModelSpec{file.path, file.name, file.version}, registry_->options());
  if (!model.ok()) return fail(model.status());
  state.verified = true;
  return Publish(*model, SecondsSince(start),
                 current != nullptr ? ModelChange::RELOADED : ModelChange::LOADED, changes);
}

bool ModelWatcher::Publish(ModelPtr model, double seconds, ModelChange::Kind kind,
                           ModelChanges* changes) {
  bool kept = true;
  ModelPtr replaced;
  std::vector<ModelPtr> retiring;
  for (const auto& [leaving, why] : leaving_) retiring.push_back(leaving);
  for (const ModelPtr& gone : registry_->Put(model, retiring)) {
    if (gone == model) {
      kept = false;
    } else if (const std::string* why = WhyLeaving(gone); why != nullptr) {
      Retire(gone, *why, changes);
    } else if (gone->version == model->version) {
      replaced = gone;
    } else {
      Retire(gone,
             absl::StrCat("superseded by version ", model->version, " (--keep_versions ",
                          registry_->options().keep_versions, ")"),
             changes);
    }
  }
  if (!kept) {  // Callers only publish versions that rank among the kept ones.
    log::Warn("model {} version {} was loaded but is below the --keep_versions {} newest",
              model->name, model->version, registry_->options().keep_versions);
    return false;
  }
  log::Info("{} model {} version {} (content {}, step {}) from {} in {:.3f} s on {}",
            kind == ModelChange::RELOADED ? "reloaded" : "loaded", model->name, model->version,
            model->content_hash, model->info.step(), model->path, seconds, model->device.str());
  AddChange(kind, model->name, model->version, model->content_hash, model->path,
            replaced != nullptr ? absl::StrCat("was content ", replaced->content_hash) : "",
            changes);
  if (replaced != nullptr && events_.on_unloaded) events_.on_unloaded(*replaced);
  // The one place where a model load completes (directory, SIGHUP, ModelAdmin).
  if (events_.on_loaded) events_.on_loaded(*model, seconds);
  return true;
}

const std::string* ModelWatcher::WhyLeaving(const ModelPtr& model) const {
  for (const auto& [leaving, why] : leaving_) {
    if (leaving == model) return &why;
  }
  return nullptr;
}

void ModelWatcher::Unpublish(const ModelPtr& model, const std::string& why, ModelChanges* changes) {
  // The watcher is the registry's only writer, so nothing can come between the two calls.
  auto found = registry_->Find(model->name, model->version);
  if (!found.ok() || *found != model) return;  // Already gone, or replaced by another load.
  ModelPtr removed = registry_->Remove(model->name, model->version);
  if (removed != nullptr) Retire(removed, why, changes);
}

void ModelWatcher::Retire(const ModelPtr& model, const std::string& why, ModelChanges* changes) {
  log::Info("unloaded model {} version {} (content {}): {}", model->name, model->version,
            model->content_hash, why);
  AddChange(ModelChange::UNLOADED, model->name, model->version, model->content_hash, model->path,
            why, changes);
  if (events_.on_unloaded) events_.on_unloaded(*model);
}

ModelWatcher::Result ModelWatcher::DoLoad(const std::string& path, std::string name,
                                          int64_t version) {
  namespace fs = std::filesystem;
  if (path.empty()) return FieldError("path", "required");
  if (name.empty()) name = fs::path(path).stem().string();
  if (absl::Status s = ValidateModelName(name, "name"); !s.ok()) return s;
  if (version < 0) return FieldError("version", absl::StrCat("must be >= 0, got ", version));
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    return absl::NotFoundError(absl::StrCat("path: checkpoint ", path, " does not exist"));
  }
  if (ec) {  // E.g. a directory on the way the server may not search: its problem, not ours.
    const std::string message = absl::StrCat("path: cannot access ", path, ": ", ec.message());
    return ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted
               ? absl::FailedPreconditionError(message)
               : absl::InvalidArgumentError(message);
  }
  if (!fs::is_regular_file(status)) {
    return FieldError(
        "path",
        absl::StrCat(path, " is ", fs::is_directory(status) ? "a directory" : "not a regular file",
                     ", not a checkpoint file"));
  }
  const std::vector<ModelPtr> versions = registry_->Versions(name);
  if (version == 0) {
    int64_t highest = versions.empty() ? 0 : versions.front()->version;
    if (!options_.dir.empty()) {  // Every file on disk, also those no rescan has seen yet.
      if (auto scan = ScanModelDirectory(options_.dir); scan.ok()) {
        for (const CheckpointFile& file : scan->files) {
          if (file.name == name) highest = std::max(highest, file.version);
        }
      }
    }
    version = highest + 1;
  }
  std::vector<int64_t> higher;
  for (const ModelPtr& model : versions) {
    if (model->version == version) {
      return absl::AlreadyExistsError(absl::StrCat("model '", name, "' version ", version,
                                                   " is already loaded (from ", model->path,
                                                   "); unload it first"));
    }
    if (model->version > version) higher.push_back(model->version);
  }
  const int keep = std::max(1, registry_->options().keep_versions);
  if (static_cast<int>(higher.size()) >= keep) {
    return absl::FailedPreconditionError(
        absl::StrCat("version: model '", name, "' version ", version, " is below the ", keep,
                     " newest loaded version(s) (", absl::StrJoin(higher, ", "),
                     ") that --keep_versions keeps; unload those first or load a higher version"));
  }
  const auto start = std::chrono::steady_clock::now();
  auto model = LoadModel(ModelSpec{path, name, version, ModelSource::kAdmin}, registry_->options());
  if (!model.ok()) {
    // The file is the server's, not the caller's: unreadable or toy is a precondition.
    absl::StatusCode code = model.status().code();
    if (code == absl::StatusCode::kUnimplemented || code == absl::StatusCode::kPermissionDenied) {
      code = absl::StatusCode::kFailedPrecondition;
    }
    return absl::Status(code, absl::StrCat("path: ", model.status().message()));
  }
  ModelChanges changes;
  Publish(*model, SecondsSince(start), ModelChange::LOADED, &changes);
  if (events_.on_changed) events_.on_changed(registry_->size());
  return changes;
}

ModelWatcher::Result ModelWatcher::DoUnload(const std::string& name, int64_t version) {
  if (absl::Status s = ValidateModelName(name, "name"); !s.ok()) return s;
  if (version < 0) return FieldError("version", absl::StrCat("must be >= 0, got ", version));
  std::vector<ModelPtr> targets;
  if (version == 0) {
    targets = registry_->Versions(name);
  } else if (auto found = registry_->Find(name, version); found.ok()) {
    targets.push_back(*found);
  }
  if (targets.empty()) {
    return absl::NotFoundError(
        version == 0 ? absl::StrCat("model '", name, "' is not loaded")
                     : absl::StrCat("model '", name, "' version ", version, " is not loaded"));
  }
  // Directory files stay unloaded until they change: for version 0 every file of the name,
  // so that no older version on disk takes their place; otherwise the file the unloaded
  // version came from (not a file an admin-loaded version of that number shadowed).
  auto unloads_file = [&](const CheckpointFile& file) {
    if (file.name != name) return false;
    if (version == 0) return true;
    return file.version == version && targets.front()->source == ModelSource::kDirectory &&
           targets.front()->path == file.path;
  };
  if (!options_.dir.empty()) {
    if (auto scan = ScanModelDirectory(options_.dir); scan.ok()) {
      for (const CheckpointFile& file : scan->files) {
        if (!unloads_file(file)) continue;
        FileState& state = files_[{name, file.version}];
        if (state.path.empty()) {
          state.path = file.path;
          state.stamp = file.stamp;
        }
        state.unloaded = true;
        state.unloaded_stamp = file.stamp;
        state.verified = false;
      }
    }
  }
  // The rescan retires the targets as it publishes the versions that now take their place, so
  // the name keeps resolving; what it did not retire (no directory, a failed scan) goes here.
  ModelChanges changes;
  if (!options_.dir.empty()) {
    std::vector<Leaving> leaving;
    for (const ModelPtr& model : targets) leaving.emplace_back(model, "unloaded on request");
    Result rescan = DoRescan(std::move(leaving));
    if (rescan.ok()) changes = *std::move(rescan);
  }
  for (const ModelPtr& model : targets) Unpublish(model, "unloaded on request", &changes);
  if (events_.on_changed) events_.on_changed(registry_->size());
  return changes;
}

}  // namespace hnet::server
