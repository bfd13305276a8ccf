// The HTTP side of monitoring: GET /metrics (Prometheus text format 0.0.4) and GET /healthz (200
// "ok" while serving, 503 "draining" once shutdown began), served by cpp-httplib on its own
// threads, separate from the gRPC port.
#ifndef HNET_SERVER_METRICS_HTTP_H_
#define HNET_SERVER_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/metrics.h"

namespace httplib {
class Server;
}

namespace hnet::server {

class MetricsHttpServer {
 public:
  // Listens on address:port (port 0 picks a free one) and serves `metrics` (which must outlive the
  // server); /healthz asks `serving`. UNAVAILABLE naming the address and --metrics_port when it
  // cannot listen.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& address,
                                                                  int port, const Metrics* metrics,
                                                                  std::function<bool()> serving);
  ~MetricsHttpServer();  // Stop().

  // The port listened on.
  int port() const { return port_; }

  // Closes the port, finishes requests in progress and joins the threads. Idempotent.
  void Stop();

 private:
  MetricsHttpServer();

  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace hnet::server

#endif  // HNET_SERVER_METRICS_HTTP_H_
