// hnet-server as a child process on a loopback port, for tests of the binary itself (flags,
// signals, exit status).
#ifndef HNET_TESTS_SERVER_SERVER_PROCESS_H_
#define HNET_TESTS_SERVER_SERVER_PROCESS_H_

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

namespace hnet::server::testing {

class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  // $HNET_BIN_DIR/hnet-server, else next to the running test binary (both are build/bin).
  static std::string BinaryPath() {
    const char* bin_dir = std::getenv("HNET_BIN_DIR");
    const std::string dir =
        bin_dir != nullptr ? std::string(bin_dir)
                           : std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
    return dir + "/hnet-server";
  }

  // Runs `hnet-server --models models_dir` on 127.0.0.1 with a free port, CPU, one thread,
  // warn-level logs, plus `extra` flags, and waits up to 60 s for its "listening on" line.
  // False when it did not come (output() has what was printed).
  bool Start(const std::string& models_dir, const std::vector<std::string>& extra = {}) {
    const std::string bin = BinaryPath();
    std::vector<std::string> args = {bin,        "--models",  models_dir, "--port",
                                     "0",        "--address", "127.0.0.1", "--device",
                                     "cpu",      "--threads", "1",         "--log_level",
                                     "warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2];
    if (::pipe(out) != 0) return false;
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_ = out[0];
    std::smatch match;
    const std::regex listening("listening on ([0-9.]+):([0-9]+)\n");
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!std::regex_search(output_, match, listening) &&
           std::chrono::steady_clock::now() < give_up) {
      pollfd fd{out_, POLLIN, 0};
      if (::poll(&fd, 1, 1000) <= 0) continue;
      char buffer[256];
      const ssize_t n = ::read(out_, buffer, sizeof(buffer));
      if (n <= 0) break;
      output_.append(buffer, n);
    }
    if (match.empty()) return false;
    endpoint_ = match[1].str() + ":" + match[2].str();
    return true;
  }

  // Sends `signal_number` to the process.
  bool Signal(int signal_number) const { return pid_ > 0 && ::kill(pid_, signal_number) == 0; }

  // SIGTERM, then waits for the exit: its exit code, or -1 when it did not exit normally.
  int Stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int wstatus = 0;
    const pid_t waited = ::waitpid(pid_, &wstatus, 0);
    pid_ = -1;
    return waited > 0 && WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  }

  const std::string& endpoint() const { return endpoint_; }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
  std::string endpoint_;
};

}  // namespace hnet::server::testing

#endif  // HNET_TESTS_SERVER_SERVER_PROCESS_H_
