// src/cli/simulate.h — `parley simulate <kind>` (src/cli/simulate.cc).
#pragma once

#include <string>

namespace parley::cli {

struct SimulateFlags {
  std::string kind;
  std::string listen = "127.0.0.1:9100";
  std::string parley = "http://127.0.0.1:8080";
  std::string connection;
  std::string secret;       // app secret (Meta), auth token (Twilio), secret token (Telegram)
  std::string identity;     // phone number id, page id, Instagram id, business number
  std::string token;        // the API token the fake checks (access token, bot token)
  std::string account_sid;  // twilio
  std::string public_url;   // twilio: the URL signed; default the Parley webhook URL
  std::string text;
  std::string from;
  int wait_seconds = 5;
  bool serve = false;
};

int Simulate(const SimulateFlags& flags);

}  // namespace parley::cli
