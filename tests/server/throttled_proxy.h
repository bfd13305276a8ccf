// A TCP proxy on 127.0.0.1 that hands a server's bytes to its clients slowly: a slow reader
// on a slow link, for tests of what the server does while responses are still in transit.
#ifndef HNET_TESTS_SERVER_THROTTLED_PROXY_H_
#define HNET_TESTS_SERVER_THROTTLED_PROXY_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
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
      pumps_.emplace_back([client, server] { Pump(client, server); });
      // Towards the client: the server's bytes are taken as fast as it sends them (they are on
      // the wire, not in a kernel buffer a reset could discard) and delivered at the rate.
      auto wire = std::make_shared<Wire>();
      pumps_.emplace_back([server, wire] { Receive(server, wire.get()); });
      pumps_.emplace_back([this, client, wire] { Deliver(client, wire.get(), bytes_per_second_); });
    }
  }

  // Bytes between the two halves of the throttled direction.
  struct Wire {
    std::mutex mu;
    std::condition_variable changed;
    std::deque<std::string> chunks;  // Received, not yet delivered.
    bool ended = false;  // The sender closed (or failed); deliver what is left, then stop.
  };

  // Writes all of [data, data + size) to `to`; false when `to` failed.
  static bool WriteAll(int to, const char* data, size_t size) {
    for (size_t done = 0; done < size;) {
      // MSG_NOSIGNAL: a peer that has closed must not SIGPIPE the whole test binary.
      const ssize_t wrote = ::send(to, data + done, size - done, MSG_NOSIGNAL);
      if (wrote <= 0) return false;
      done += static_cast<size_t>(wrote);
    }
    return true;
  }

  // Copies `from` to `to` at full speed until either end closes.
  static void Pump(int from, int to) {
    char buffer[16 << 10];
    while (true) {
      const ssize_t got = ::read(from, buffer, sizeof(buffer));
      if (got <= 0) break;
      if (!WriteAll(to, buffer, static_cast<size_t>(got))) {
        ::shutdown(from, SHUT_RD);  // The other direction may still be delivering.
        return;
      }
    }
    ::shutdown(to, SHUT_WR);
  }

  static void Receive(int from, Wire* wire) {
    char buffer[16 << 10];
    while (true) {
      const ssize_t got = ::read(from, buffer, sizeof(buffer));
      std::lock_guard<std::mutex> lock(wire->mu);
      if (got <= 0) {
        wire->ended = true;
        wire->changed.notify_all();
        return;
      }
      wire->chunks.emplace_back(buffer, static_cast<size_t>(got));
      wire->changed.notify_all();
    }
  }

  // Delivers the wire's bytes to `to` at no more than `rate` bytes/s, then half-closes `to`.
  static void Deliver(int to, Wire* wire, int64_t rate) {
    const auto start = std::chrono::steady_clock::now();
    int64_t sent = 0;
    while (true) {
      std::string chunk;
      {
        std::unique_lock<std::mutex> lock(wire->mu);
        wire->changed.wait(lock, [wire] { return wire->ended || !wire->chunks.empty(); });
        if (wire->chunks.empty()) break;  // Ended and delivered.
        chunk = std::move(wire->chunks.front());
        wire->chunks.pop_front();
      }
      if (!WriteAll(to, chunk.data(), chunk.size())) return;
      sent += static_cast<int64_t>(chunk.size());
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
  std::vector<std::thread> pumps_;  // Three per connection, added by the accept thread.
  std::thread accept_thread_;
};

}  // namespace hnet::server::testing

#endif  // HNET_TESTS_SERVER_THROTTLED_PROXY_H_
