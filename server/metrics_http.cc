#include "server/metrics_http.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace hnet::server {
namespace {

constexpr char kExpositionType[] = "text/plain; version=0.0.4; charset=utf-8";
// Scrapes are rare and small: two handler threads, one request per connection (no idle keep-alive
// connection delays Stop()).
constexpr int kHttpThreads = 2;

}  // namespace

MetricsHttpServer::MetricsHttpServer() : http_(std::make_unique<httplib::Server>()) {}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, int port, const Metrics* metrics, std::function<bool()> serving) {
  std::unique_ptr<MetricsHttpServer> s(new MetricsHttpServer());
  httplib::Server& http = *s->http_;
  http.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  http.set_keep_alive_max_count(1);
  // httplib's default adds SO_REUSEPORT, which would let a second server share the port silently; a
  // port in use must be an error.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.Get("/metrics", [metrics](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics->Render(), kExpositionType);
  });
  http.Get("/healthz",
           [serving = std::move(serving)](const httplib::Request&, httplib::Response& response) {
             const bool up = !serving || serving();
             response.status = up ? 200 : 503;
             response.set_content(up ? "ok\n" : "draining\n", "text/plain; charset=utf-8");
           });
  const int bound =
      port == 0 ? http.bind_to_any_port(address) : (http.bind_to_port(address, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for metrics on ", address, ":", port,
                                               " (--metrics_address, --metrics_port)"));
  }
  s->port_ = bound;
  auto finished = std::make_shared<std::atomic<bool>>(false);
  s->thread_ = std::thread([&http, finished] {
    http.listen_after_bind();
    finished->store(true);
  });
  // stop() is a no-op until the accept loop runs; wait for it so Stop() cannot be lost.
  while (!http.is_running() && !finished->load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return s;
}

void MetricsHttpServer::Stop() {
  if (!thread_.joinable()) return;
  http_->stop();
  thread_.join();
}

}  // namespace hnet::server
