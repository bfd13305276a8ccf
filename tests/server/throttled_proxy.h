// A TCP proxy on 127.0.0.1 that hands a server's bytes to its clients slowly: a slow reader
// on a slow link, for tests of what the server does while responses are still in transit.
#ifndef HNET_TESTS_SERVER_THROTTLED_PROXY_H_
#define HNET_TESTS_SERVER_THROTTLED_PROXY_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace hnet::server::testing {

class ThrottledProxy {
 public:
  // Forwards every connection to 127.0.0.1:target_port; bytes towards the client pass at no
  // more than `bytes_per_second` per connection, bytes towards the server at full speed.
  ThrottledProxy(int target_port, int64_t bytes_per_second)
      : target_port_(target_port), bytes_per_second_(bytes_per_second) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = Loopback(0);
    socklen_t length = sizeof(address);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return;  // port() stays 0.
    }
    port_ = ntohs(address.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  // Cuts every connection and joins the threads.
  ~ThrottledProxy() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    if (accept_thread_.joinable()) accept_thread_.join();  // No pumps start after this.
    for (std::thread& pump : pumps_) pump.join();
    for (int fd : fds_) ::close(fd);
    ::close(listen_fd_);
  }

  int port() const { return port_; }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }

  void AcceptLoop() {
    while (true) {
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      const int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address = Loopback(target_port_);
      if (::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        ::close(server);
        ::close(client);
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(client);
      fds_.push_back(server);
      if (stopped_) {
        ::shutdown(client, SHUT_RDWR);
        ::shutdown(server, SHUT_RDWR);
      }
      pumps_.emplace_back([client, server] { Pump(client, server, 0); });
      pumps_.emplace_back([this, client, server] { Pump(server, client, bytes_per_second_); });
    }
  }

  // Copies `from` to `to` until either end closes; `rate` bytes/s at most (0: unlimited).
  static void Pump(int from, int to, int64_t rate) {
    char buffer[16 << 10];
    const auto start = std::chrono::steady_clock::now();
    int64_t sent = 0;
    while (true) {
      const ssize_t got = ::read(from, buffer, sizeof(buffer));
      if (got <= 0) break;
      for (ssize_t done = 0; done < got;) {
        // MSG_NOSIGNAL: a peer that has closed must not SIGPIPE the whole test binary.
        const ssize_t wrote =
            ::send(to, buffer + done, static_cast<size_t>(got - done), MSG_NOSIGNAL);
        if (wrote <= 0) {
          ::shutdown(from, SHUT_RDWR);
          return;
        }
        done += wrote;
      }
      sent += got;
      if (rate > 0) {
        std::this_thread::sleep_until(start + std::chrono::microseconds(sent * 1'000'000 / rate));
      }
    }
    ::shutdown(to, SHUT_WR);
  }

  const int target_port_;
  const int64_t bytes_per_second_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  bool stopped_ = false;
  std::vector<int> fds_;
  std::vector<std::thread> pumps_;  // Two per connection, added by the accept thread.
  std::thread accept_thread_;
};

}  // namespace hnet::server::testing

#endif  // HNET_TESTS_SERVER_THROTTLED_PROXY_H_
