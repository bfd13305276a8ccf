#include "server/socket_drain.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace hnet::server {
namespace {

// A listening socket on 127.0.0.1, one client connected to it and the accepted end.
struct Connection {
  Connection() {
    listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return;
    }
    port = ntohs(address.sin_port);
    client = ::socket(AF_INET, SOCK_STREAM, 0);
    const int small = 64 << 10;  // A small receive window fills quickly.
    ::setsockopt(client, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    if (::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return;
    accepted = ::accept(listener, nullptr, nullptr);
  }
  ~Connection() {
    for (int fd : {accepted, client, listener}) {
      if (fd >= 0) ::close(fd);
    }
  }
  int listener = -1;
  int client = -1;
  int accepted = -1;
  int port = 0;
};

TEST(UnacknowledgedBytes, CountsWhatAReaderHasNotTakenAndDropsToZeroOnceItHas) {
  Connection c;
  ASSERT_GE(c.accepted, 0);
  EXPECT_EQ(UnacknowledgedBytes(c.port), 0);
  // Fill the client's window and the server's send buffer without blocking.
  ::fcntl(c.accepted, F_SETFL, ::fcntl(c.accepted, F_GETFL) | O_NONBLOCK);
  const std::string chunk(64 << 10, 'x');
  int64_t written = 0;
  while (true) {
    const ssize_t n = ::send(c.accepted, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    written += n;
  }
  ASSERT_GT(written, 0);
  const int64_t pending = UnacknowledgedBytes(c.port);
  EXPECT_GT(pending, 0);
  EXPECT_LE(pending, written);
  // Another port's connections are not counted.
  Connection other;
  ASSERT_GE(other.accepted, 0);
  EXPECT_EQ(UnacknowledgedBytes(other.port), 0);

  char buffer[64 << 10];
  int64_t read = 0;
  while (read < written) {
    const ssize_t n = ::read(c.client, buffer, sizeof(buffer));
    ASSERT_GT(n, 0);
    read += n;
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (UnacknowledgedBytes(c.port) > 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(UnacknowledgedBytes(c.port), 0);
}

}  // namespace
}  // namespace hnet::server
