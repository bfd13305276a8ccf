// A drain (SIGTERM, Server::Shutdown) lets responses that have left their handler reach a
// slow reader before the server closes its connections.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "tests/server/server_test_util.h"
#include "tests/server/throttled_proxy.h"

namespace hnet::server {
namespace {

using testing::Context;

class DrainTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    options_.drain_timeout_s = 30;  // Far longer than the transfers, however loaded the machine.
  }

  // A stub whose bytes from the server come through a link of `bytes_per_second`.
  std::unique_ptr<hnet::v1::HyperNet::Stub> SlowStub(int64_t bytes_per_second) {
    proxy_ = std::make_unique<testing::ThrottledProxy>(server_->port(), bytes_per_second);
    EXPECT_NE(proxy_->port(), 0);
    return hnet::v1::HyperNet::NewStub(
        testing::Channel(absl::StrCat("127.0.0.1:", proxy_->port())));
  }

  // Waits until the server has ended `method`'s handler for model tiny with OK, then drains.
  void DrainOnceHandled(const std::string& method) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (server_->metrics().requests().Value({method, "tiny", "OK"}) < 1) {
      ASSERT_LT(std::chrono::steady_clock::now(), give_up) << method << " never finished";
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    drain_ = std::thread([this] { server_->Shutdown(); });
  }

  void TearDown() override {
    if (drain_.joinable()) drain_.join();
    proxy_.reset();
    ServerTest::TearDown();
  }

  std::unique_ptr<testing::ThrottledProxy> proxy_;
  std::thread drain_;
};

// 100 networks of the MNIST target are 8 MB: two seconds at 4 MB/s, well inside the drain
// timeout, far longer than the server's linger.
TEST_F(DrainTest, ACallbackResponseInTransitIsDeliveredWhole) {
  StartServer();
  auto stub = SlowStub(4 << 20);
  const hnet::v1::SampleWeightsRequest request = testing::TinyRequest(100, 3);
  auto call = std::async(std::launch::async, [&] {
    hnet::v1::SampleWeightsResponse response;
    const grpc::Status status = stub->SampleWeights(Context(60).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    return response.ByteSizeLong();
  });
  DrainOnceHandled("SampleWeights");
  EXPECT_GT(call.get(), size_t{8'000'000});
}

TEST_F(DrainTest, ASyncHandlersResponseInTransitIsDeliveredWhole) {
  StartServer();
  auto stub = SlowStub(4 << 20);
  hnet::v1::InterpolatePathRequest request;
  request.set_model("tiny");
  request.mutable_start()->set_seed(1);
  request.mutable_end()->set_seed(2);
  request.set_points(50);  // 2 modes x 50 points x 80 KB.
  request.set_return_weights(true);
  const std::string image(28 * 28, '\x20');
  auto* inputs = request.mutable_inputs();
  inputs->set_dtype(hnet::v1::TensorProto::UINT8);
  inputs->add_shape(1);
  inputs->add_shape(28);
  inputs->add_shape(28);
  inputs->set_data(image);
  auto* labels = request.mutable_labels();
  labels->set_dtype(hnet::v1::TensorProto::INT64);
  labels->add_shape(1);
  labels->set_data(std::string(8, '\0'));
  auto call = std::async(std::launch::async, [&] {
    hnet::v1::InterpolatePathResponse response;
    const grpc::Status status = stub->InterpolatePath(Context(60).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    return response.points_size();
  });
  DrainOnceHandled("InterpolatePath");
  EXPECT_EQ(call.get(), 50);
}

}  // namespace
}  // namespace hnet::server
