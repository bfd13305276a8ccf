// Keeps a live ModelRegistry in step with the --models directory and carries out the
// ModelAdmin operations. Everything that reads a checkpoint runs on the watcher's own thread
// (never a gRPC thread, never under the registry lock, which is only taken to swap a
// pointer). Operations are serialised on that thread: the registry has a single writer.
//
// A directory rescan (every watch_interval_s, on SIGHUP, on ModelAdmin.ReloadModels):
//  - loads new files, reloads changed ones (size/mtime/ctime/inode differ, then the payload
//    CRC), unloads versions whose file is gone;
//  - keeps, per name, the keep_versions highest servable versions loaded (lower ones are
//    unloaded, or never read);
//  - never swaps in a file that fails to load (mid-write, truncated, corrupt): the version
//    already loaded keeps serving, one warning is logged per file state, and the file is
//    retried on every rescan until it loads.
#ifndef HNET_SERVER_MODEL_WATCHER_H_
#define HNET_SERVER_MODEL_WATCHER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "hnet/v1/admin.pb.h"
#include "server/model_directory.h"
#include "server/model_registry.h"

namespace hnet::server {

struct WatcherOptions {
  std::string dir;              // --models; empty: no directory (ModelAdmin loads only).
  double watch_interval_s = 2;  // --watch_interval_s; <= 0: rescan only on request.
};

// Notifications, called on the watcher thread after the registry changed. Any may be empty.
struct ModelEvents {
  // A version was loaded (or reloaded) and is now served; `seconds` is the time from reading
  // its file to serving it. This is the single place where a model load completes.
  std::function<void(const LoadedModel& model, double seconds)> on_loaded;
  // A version left the registry (unloaded, replaced by its reload, or superseded).
  std::function<void(const LoadedModel& model)> on_unloaded;
  // After any change: the number of loaded versions.
  std::function<void(size_t loaded)> on_changed;
};

class ModelWatcher {
 public:
  using Result = absl::StatusOr<hnet::v1::ModelChanges>;

  // Watches options.dir for `registry`, which may already hold what LoadDirectory loaded
  // (the first rescan then only records file states). Nothing else may write `registry`.
  // Nothing runs before Start(); operations requested earlier wait for it.
  ModelWatcher(std::shared_ptr<ModelRegistry> registry, WatcherOptions options, ModelEvents events);
  ~ModelWatcher();  // Stop().

  // Starts the thread: requested operations, and a rescan every watch_interval_s.
  void Start();
  // Answers queued and new requests UNAVAILABLE and makes a rescan in progress stop before its
  // next file; returns at once. Thread-safe.
  void RequestStop();
  // RequestStop(), then lets the file being read finish, answers queued requests UNAVAILABLE
  // and joins the thread. Idempotent.
  void Stop();

  // Rescans the directory now (FAILED_PRECONDITION when there is none) and reports what
  // changed. Thread-safe; the result arrives through the future.
  std::future<Result> Rescan();
  // Loads checkpoint `path` as `name` (empty: the file stem) version `version` (0: one above
  // the highest loaded or on disk), as ModelSource::kAdmin. Errors as in hnet.v1.ModelAdmin.
  // Thread-safe.
  std::future<Result> Load(std::string path, std::string name, int64_t version);
  // Unloads version `version` of `name` (0: every version), then rescans: an older version on
  // disk may take its place. Directory files unloaded here stay unloaded until they change.
  // NOT_FOUND when not loaded. Thread-safe.
  std::future<Result> Unload(std::string name, int64_t version);

  // Rescans done so far (periodic and requested). Thread-safe.
  int64_t rescans() const;

 private:
  // What the watcher knows about one directory file, by (name, version).
  struct FileState {
    std::string path;
    FileStamp stamp;         // As of the last read (successful or not).
    bool verified = false;   // The loaded version holds this file's content at `stamp`.
    bool recent = false;     // It had just changed when read: read it again next time.
    std::string failure;     // The last error at `stamp` (logged once); empty if none.
    bool permanent = false;  // `failure` cannot go away without a change (toy model).
    bool unloaded = false;   // Unloaded through ModelAdmin: ignored until it changes.
    FileStamp unloaded_stamp;
  };
  using Key = std::pair<std::string, int64_t>;
  // A loaded version on its way out, and why (logged and reported when it goes).
  using Leaving = std::pair<ModelPtr, std::string>;
  struct Task {
    std::function<Result()> operation;
    std::shared_ptr<std::promise<Result>> promise;
  };

  std::future<Result> Post(std::function<Result()> operation);
  bool stop_requested() const;
  void Loop();
  // Loads what changed on disk and unloads versions whose files are gone and the `leaving`
  // ones. A version leaves in the same registry step that publishes a version of its name
  // loaded by this rescan (so the name keeps resolving), or at the end when none is.
  Result DoRescan(std::vector<Leaving> leaving = {});
  Result DoLoad(const std::string& path, std::string name, int64_t version);
  Result DoUnload(const std::string& name, int64_t version);
  // Brings the loaded versions of `name` in line with its `files` (highest version first).
  void ReconcileName(const std::string& name, const std::vector<const CheckpointFile*>& files,
                     hnet::v1::ModelChanges* changes);
  // Reads `file` when it may have changed and, when its content differs from the loaded
  // one, loads and publishes it. True when the version is loaded afterwards.
  bool Refresh(const CheckpointFile& file, FileState& state, hnet::v1::ModelChanges* changes);
  // Puts `model` into the registry and reports what that changed; false when it was not kept.
  bool Publish(ModelPtr model, double seconds, hnet::v1::ModelChange::Kind kind,
               hnet::v1::ModelChanges* changes);
  // Why `model` is leaving in this rescan, or null when it is not.
  const std::string* WhyLeaving(const ModelPtr& model) const;
  // Removes `model` from the registry and Retire()s it, when it is still there (the same
  // object); otherwise does nothing.
  void Unpublish(const ModelPtr& model, const std::string& why, hnet::v1::ModelChanges* changes);
  // Reports, logs and notifies that `model` left the registry.
  void Retire(const ModelPtr& model, const std::string& why, hnet::v1::ModelChanges* changes);
  // Logs each skipped-entry reason once while it persists.
  void LogSkipped(const std::vector<std::string>& skipped);

  const std::shared_ptr<ModelRegistry> registry_;
  const WatcherOptions options_;
  const ModelEvents events_;

  // Watcher-thread state.
  std::map<Key, FileState> files_;
  std::vector<Leaving> leaving_;  // During DoRescan.
  std::set<std::string> skipped_logged_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  bool started_ = false;
  bool stopping_ = false;
  int64_t rescans_ = 0;
  std::thread thread_;
};

}  // namespace hnet::server

#endif  // HNET_SERVER_MODEL_WATCHER_H_
