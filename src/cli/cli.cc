#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <iostream>

#include "cli/simulate.h"
#include "cli/version.h"

namespace parley::cli {

namespace json = boost::json;

namespace {

// The flags every admin subcommand shares.
void AddAdminFlags(CLI::App* app, AdminFlags& flags) {
  app->add_option("--server", flags.server, "Parley's base URL")
      ->envname("PARLEY_SERVER")
      ->capture_default_str();
  app->add_option("--token", flags.token,
                  "Operator token (default: $PARLEY_ADMIN_TOKEN, then <data-dir>/admin.token)");
  app->add_option("--data-dir", flags.data_dir, "Where to find admin.token")->capture_default_str();
}

std::string ParseJsonFlag(const std::string& text, const char* flag, bool& ok) {
  if (text.empty()) return "{}";
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    std::cerr << "parley: " << flag << " must be a JSON object\n";
    ok = false;
    return "{}";
  }
  return text;
}

}  // namespace

int Run(int argc, char** argv, const ServeFn& serve) {
  CLI::App app{"Parley: one API for every messaging channel."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(kVersion));

  ServeFlags serve_flags;
  std::string config_file, listen, data_dir;
  auto* serve_cmd = app.add_subcommand("serve", "Run the Parley service");
  serve_cmd->add_option("--config", config_file, "TOML configuration file");
  serve_cmd->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  serve_cmd->add_option("--data-dir", data_dir, "Data directory (default ./parley-data)");
  serve_cmd->add_flag("--require-master-key", serve_flags.require_master_key,
                      "Refuse to start without a master key instead of generating one");
  serve_cmd->add_flag("--demo", serve_flags.demo,
                      "Set up a demo tenant with a web chat connection, and serve the demo pages "
                      "(/demo) and the agent console (/console) for it");

  AdminFlags admin;
  std::string tenant, name, url, kind, outbound_url, secret, settings, credentials, scopes;

  auto* tenant_cmd = app.add_subcommand("tenant", "Manage tenants")->require_subcommand(1);
  auto* tenant_create = tenant_cmd->add_subcommand("create", "Create a tenant");
  tenant_create->add_option("--name", name, "Tenant name")->required();
  auto* tenant_list = tenant_cmd->add_subcommand("list", "List tenants");
  auto* tenant_get = tenant_cmd->add_subcommand("get", "Show a tenant");
  tenant_get->add_option("--tenant", tenant, "Tenant id")->required();
  auto* tenant_delete = tenant_cmd->add_subcommand(
      "delete", "Delete a tenant: its data key is destroyed first, then its data");
  tenant_delete->add_option("--tenant", tenant, "Tenant id")->required();
  for (auto* c : {tenant_create, tenant_list, tenant_get, tenant_delete}) AddAdminFlags(c, admin);

  auto* key_cmd = app.add_subcommand("key", "Manage API keys")->require_subcommand(1);
  auto* key_create =
      key_cmd->add_subcommand("create", "Create an API key (the secret is shown once)");
  key_create->add_option("--tenant", tenant, "Tenant id")->required();
  key_create->add_option("--name", name, "A name for the key");
  key_create
      ->add_option("--scopes", scopes,
                   "Comma-separated scopes: conversations:read, conversations:write, "
                   "messages:write, customers:read, dead_letters:manage, admin")
      ->required();
  AddAdminFlags(key_create, admin);

  auto* endpoint_cmd =
      app.add_subcommand("endpoint", "Manage webhook endpoints")->require_subcommand(1);
  auto* endpoint_add =
      endpoint_cmd->add_subcommand("add", "Add a webhook endpoint (the secret is shown once)");
  endpoint_add->add_option("--tenant", tenant, "Tenant id")->required();
  endpoint_add->add_option("--url", url, "Where Parley POSTs events")->required();
  AddAdminFlags(endpoint_add, admin);

  auto* connection_cmd =
      app.add_subcommand("connection", "Manage channel connections")->require_subcommand(1);
  auto* connection_add = connection_cmd->add_subcommand("add", "Add a channel connection");
  connection_add->add_option("--tenant", tenant, "Tenant id")->required();
  connection_add->add_option("--kind", kind, "Channel kind (custom, …)")->required();
  connection_add->add_option("--name", name, "A name for the connection");
  connection_add->add_option("--outbound-url", outbound_url, "custom: where replies are POSTed");
  connection_add->add_option("--secret", secret, "custom: the signing secret (default: generated)");
  connection_add->add_option("--settings", settings, "Settings as a JSON object");
  connection_add->add_option("--credentials", credentials, "Credentials as a JSON object");
  AddAdminFlags(connection_add, admin);

  std::string channel;
  auto* normalize_cmd = app.add_subcommand(
      "normalize", "Normalize one channel payload from stdin into the common message format");
  normalize_cmd->add_option("--channel", channel, "Channel kind")->required();

  SimulateFlags sim;
  auto* simulate_cmd = app.add_subcommand(
      "simulate",
      "Run a fake provider (whatsapp, messenger, instagram, twilio, telegram) and send signed "
      "customer messages to a running Parley");
  simulate_cmd->add_option("kind", sim.kind, "Channel kind")->required();
  simulate_cmd->add_option("--listen", sim.listen,
                           "Where the fake provider listens (the connection's api_base_url)");
  simulate_cmd->add_option("--parley", sim.parley, "Parley's base URL");
  simulate_cmd->add_option("--connection", sim.connection, "The connection id (con_…)")->required();
  simulate_cmd->add_option("--secret", sim.secret,
                           "Signing secret: app secret (Meta), auth token (Twilio), secret "
                           "token (Telegram)");
  simulate_cmd->add_option("--identity", sim.identity,
                           "The business identity: phone number id, page id, Instagram id or "
                           "number");
  simulate_cmd->add_option("--token", sim.token,
                           "The API token the fake accepts: access token (Meta), bot token "
                           "(Telegram)");
  simulate_cmd->add_option("--account-sid", sim.account_sid, "twilio: the account SID");
  simulate_cmd->add_option("--public-url", sim.public_url,
                           "twilio: the webhook URL Twilio would sign (default: Parley's)");
  simulate_cmd->add_option("--text", sim.text, "Send one customer text message");
  simulate_cmd->add_option("--from", sim.from, "The customer's id on the channel");
  simulate_cmd->add_option("--wait", sim.wait_seconds,
                           "Seconds to show what Parley sends back (default 5)");
  simulate_cmd->add_flag("--serve", sim.serve,
                         "Keep running (driven over /_sim/… routes) until interrupted");

  bool raw_json = false;
  auto* data_map_cmd = app.add_subcommand(
      "data-map", "Show what Parley holds per record type, and the rule that deletes it");
  AddAdminFlags(data_map_cmd, admin);
  data_map_cmd->add_flag("--json", raw_json, "Print the admin API's JSON");

  auto* version_cmd = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (*serve_cmd) {
    if (!config_file.empty()) serve_flags.config_file = config_file;
    if (!listen.empty()) serve_flags.listen = listen;
    if (!data_dir.empty()) serve_flags.data_dir = data_dir;
    return serve(serve_flags);
  }
  if (*version_cmd) {
    std::cout << "parley " << kVersion << "\n";
    return 0;
  }
  if (*normalize_cmd) return Normalize(channel);
  if (*simulate_cmd) return Simulate(sim);
  if (*tenant_create) {
    return AdminRequest(admin, "POST", "/v1/admin/tenants",
                        json::serialize(json::object{{"name", name}}));
  }
  if (*data_map_cmd) {
    if (raw_json) return AdminRequest(admin, "GET", "/v1/admin/data-map", "");
    return AdminRequest(admin, "GET", "/v1/admin/data-map", "", PrintDataMap);
  }
  if (*tenant_list) return AdminRequest(admin, "GET", "/v1/admin/tenants", "");
  if (*tenant_get) return AdminRequest(admin, "GET", "/v1/admin/tenants/" + tenant, "");
  if (*tenant_delete) return AdminRequest(admin, "DELETE", "/v1/admin/tenants/" + tenant, "");
  if (*key_create) {
    json::array list;
    size_t start = 0;
    while (start <= scopes.size()) {
      size_t comma = scopes.find(',', start);
      std::string s =
          scopes.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!s.empty()) list.emplace_back(s);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return AdminRequest(admin, "POST", "/v1/admin/tenants/" + tenant + "/api-keys",
                        json::serialize(json::object{{"name", name}, {"scopes", list}}));
  }
  if (*endpoint_add) {
    return AdminRequest(admin, "POST", "/v1/admin/tenants/" + tenant + "/endpoints",
                        json::serialize(json::object{{"url", url}}));
  }
  if (*connection_add) {
    bool ok = true;
    json::object body{{"kind", kind}, {"name", name}};
    json::value s = json::parse(ParseJsonFlag(settings, "--settings", ok));
    json::value c = json::parse(ParseJsonFlag(credentials, "--credentials", ok));
    if (!ok) return 2;
    if (!outbound_url.empty()) s.get_object()["outbound_url"] = outbound_url;
    if (!secret.empty()) c.get_object()["secret"] = secret;
    body["settings"] = std::move(s);
    body["credentials"] = std::move(c);
    return AdminRequest(admin, "POST", "/v1/admin/tenants/" + tenant + "/connections",
                        json::serialize(body));
  }
  return 0;
}

}  // namespace parley::cli
