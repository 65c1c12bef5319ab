// src/cli/cli.h
//
// The `parley` command line (CLI11): serve, tenant, key, endpoint, connection, data-map,
// normalize, version. `serve` is handed back to the composition root (src/main.cc), which
// alone knows every concrete type; the admin subcommands talk to a running server's admin API.
//
//   int main(int argc, char** argv) { return parley::cli::Run(argc, argv, &Serve); }
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace parley::cli {

struct ServeFlags {
  std::optional<std::string> config_file;
  std::optional<std::string> listen;
  std::optional<std::string> data_dir;
  bool require_master_key = false;
  bool demo = false;  // create and serve the demo tenant, web connection and pages
};

using ServeFn = std::function<int(const ServeFlags&)>;

// Parses argv and runs the chosen subcommand. Returns the process exit code.
int Run(int argc, char** argv, const ServeFn& serve);

// Subcommands (one file each).
struct AdminFlags {
  std::string server = "http://127.0.0.1:8080";
  std::string token;  // operator token; empty = PARLEY_ADMIN_TOKEN or <data_dir>/admin.token
  std::string data_dir = "./parley-data";
};
// Sends one admin request and prints the JSON answer (or hands a 2xx answer's body to
// `print`, when given). Returns the exit code.
int AdminRequest(const AdminFlags& flags, const std::string& method, const std::string& path,
                 const std::string& body,
                 const std::function<void(const std::string&)>& print = nullptr);
// `parley data-map`'s table from GET /v1/admin/data-map's JSON.
void PrintDataMap(const std::string& json_body);
int Normalize(const std::string& channel);

}  // namespace parley::cli
