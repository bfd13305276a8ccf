// hnet_client_consumer [host:port]: lists the server's models, or prints why it cannot.
// Exits 0 whenever the client could be created, server or not.
#include <iostream>

#include "client/client.h"

int main(int argc, char** argv) {
  hnet::client::ClientOptions options;
  options.addresses = {argc > 1 ? argv[1] : "localhost:50051"};
  options.deadline = absl::Seconds(5);
  options.max_attempts = 2;
  absl::StatusOr<std::unique_ptr<hnet::client::Client>> client =
      hnet::client::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "Connect: " << client.status() << "\n";
    return 1;
  }
  absl::StatusOr<std::vector<hnet::client::ModelInfo>> models = (*client)->ListModels();
  if (!models.ok()) {
    std::cout << "ListModels: " << models.status() << "\n";
    return 0;
  }
  std::cout << "ListModels: " << models->size() << " model(s)\n";
  for (const hnet::client::ModelInfo& model : *models) {
    std::cout << "  " << model.name << " (" << model.weight_count << " weights)\n";
  }
  return 0;
}
