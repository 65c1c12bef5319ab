// src/channels/sim/simulator_state.h
//
// What every fake provider (the simulators of src/channels/<kind>/<kind>_simulator.h) keeps:
// the requests it received, the faults it was told to answer with, the media files it serves
// and a counter for the ids it makes up. Used by `parley simulate` and the integration
// tests; never by the service itself.
//
//   SimulatorState state;
//   state.FailNext({.status = 429, .headers = {{"Retry-After", "1"}}});
//   router.Add("POST", "/v21.0/{phone}/messages", [&](http::Request q) -> awaitable<Response> {
//     state.Record(q);
//     if (auto fault = state.TakeFault()) co_return co_await Answer(*fault);
//     …
//   });
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/message.h"

namespace parley::channels::sim {

struct RecordedRequest {
  std::string method;
  std::string target;                                        // path and query as received
  std::vector<std::pair<std::string, std::string>> headers;  // lower-cased names
  std::string body;
};

// One faulty answer: `status` with `body` and `headers`, after `delay` (a delay longer than
// the caller's timeout is a timeout).
struct Fault {
  int status = 500;
  std::string body{};
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers{};
  std::chrono::milliseconds delay{0};
};

struct MediaFile {
  std::string bytes;
  std::string mime_type;
  std::string filename;
};

// Thread safety: every method may be called concurrently.
class SimulatorState {
 public:
  void Record(const http::Request& request);
  std::vector<RecordedRequest> Received() const;
  // The received requests whose target starts with `prefix`.
  std::vector<RecordedRequest> ReceivedUnder(std::string_view prefix) const;
  void ClearReceived();

  // The next `times` calls that ask TakeFault get `fault`.
  void FailNext(Fault fault, int times = 1);
  std::optional<Fault> TakeFault();

  // Serves `file` under a new id ("media-1", …); returns the id.
  std::string AddMedia(MediaFile file);
  std::optional<MediaFile> Media(const std::string& id) const;

  // 1, 2, 3, … for made-up provider ids.
  int64_t NextId();

 private:
  mutable std::mutex mu_;
  std::vector<RecordedRequest> received_;
  std::deque<Fault> faults_;
  std::map<std::string, MediaFile> media_;
  int64_t next_id_ = 0;
};

// The response for `fault`, after its delay.
boost::asio::awaitable<http::Response> Answer(Fault fault);

// A JSON response.
http::Response JsonAnswer(int status, std::string body);

}  // namespace parley::channels::sim
