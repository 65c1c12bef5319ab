#include "channels/sim/simulator_state.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace parley::channels::sim {

void SimulatorState::Record(const http::Request& request) {
  RecordedRequest r;
  r.method = request.method;
  r.target = request.target.empty() ? request.path : request.target;
  r.headers = request.headers;
  r.body = request.body;
  std::lock_guard lock(mu_);
  received_.push_back(std::move(r));
}

std::vector<RecordedRequest> SimulatorState::Received() const {
  std::lock_guard lock(mu_);
  return received_;
}

std::vector<RecordedRequest> SimulatorState::ReceivedUnder(std::string_view prefix) const {
  std::lock_guard lock(mu_);
  std::vector<RecordedRequest> out;
  for (const auto& r : received_) {
    if (std::string_view(r.target).substr(0, prefix.size()) == prefix) out.push_back(r);
  }
  return out;
}

void SimulatorState::ClearReceived() {
  std::lock_guard lock(mu_);
  received_.clear();
}

void SimulatorState::FailNext(Fault fault, int times) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < times; ++i) faults_.push_back(fault);
}

std::optional<Fault> SimulatorState::TakeFault() {
  std::lock_guard lock(mu_);
  if (faults_.empty()) return std::nullopt;
  Fault f = std::move(faults_.front());
  faults_.pop_front();
  return f;
}

std::string SimulatorState::AddMedia(MediaFile file) {
  std::lock_guard lock(mu_);
  std::string id = "media-" + std::to_string(++next_id_);
  media_.emplace(id, std::move(file));
  return id;
}

std::optional<MediaFile> SimulatorState::Media(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = media_.find(id);
  if (it == media_.end()) return std::nullopt;
  return it->second;
}

int64_t SimulatorState::NextId() {
  std::lock_guard lock(mu_);
  return ++next_id_;
}

boost::asio::awaitable<http::Response> Answer(Fault fault) {
  if (fault.delay.count() > 0) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(fault.delay);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  http::Response r;
  r.status = fault.status;
  r.content_type = fault.content_type;
  r.headers = fault.headers;
  r.body = fault.body;
  co_return r;
}

http::Response JsonAnswer(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace parley::channels::sim
