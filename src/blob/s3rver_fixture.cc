// src/blob/s3rver_fixture.cc
//
// The s3rver test fixture: the embedded Node proxy script and the process that runs it.
#include "blob/s3rver_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>
#include <vector>

#ifndef PARLEY_NODE_TOOLS_DIR
#error "PARLEY_NODE_TOOLS_DIR must name <repo>/test/node (set in src/blob/CMakeLists.txt)"
#endif

extern char** environ;

namespace parley::blob::s3_testing {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Written to the server's temporary directory and run with node.
constexpr std::string_view kProxyScript = R"js(
'use strict';
// argv: <s3rver module dir> <data dir> <port file>. Listens on a port the kernel picks and
// writes it to <port file> (whole, by a rename) once it accepts. Checks every request's AWS
// SigV4 signature
// (header or query auth, secret "S3RVER") the way S3 does, since s3rver 3 checks only the
// access key id, then forwards it to s3rver. Also: GET|DELETE /__log (requests seen) and
// POST /__fail/<status> (answer the next request with <status> and the posted body).
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const S3rver = require(process.argv[2]);
const log = [];
const failures = [];
const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
const encode = (text) => encodeURIComponent(text).replace(
    /[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const pairs = (query) => query ? query.split('&').map((kv) => {
  const i = kv.indexOf('=');
  return (i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)]).map(decodeURIComponent);
}) : [];

// The S3 error code for a bad signature, or null.
function verify(req, body) {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = pairs(q < 0 ? '' : req.url.slice(q + 1));
  const params = Object.fromEntries(query);
  let credential, signedHeaders, signature, date, payloadHash = 'UNSIGNED-PAYLOAD';
  if ('X-Amz-Signature' in params) {
    ({'X-Amz-Credential': credential, 'X-Amz-SignedHeaders': signedHeaders,
      'X-Amz-Signature': signature, 'X-Amz-Date': date} = params);
  } else {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=(\w+)$/
        .exec(req.headers.authorization || '');
    if (!m) return 'AccessDenied';
    [, credential, signedHeaders, signature] = m;
    date = req.headers['x-amz-date'];
    payloadHash = req.headers['x-amz-content-sha256'];
    if (payloadHash !== sha256(body)) return 'XAmzContentSHA256Mismatch';
    const signed = signedHeaders.split(';');
    if (Object.keys(req.headers).some((h) => h.startsWith('x-amz-') && !signed.includes(h))) {
      return 'AccessDenied';
    }
  }
  const [keyId, day, region, service, terminator] = String(credential).split('/');
  if (keyId !== 'S3RVER') return null;  // s3rver itself answers InvalidAccessKeyId
  if (!date || !date.startsWith(day) || service !== 's3' || terminator !== 'aws4_request') {
    return 'AuthorizationHeaderMalformed';
  }
  const canonical = [
    req.method,
    path.split('/').map((segment) => encode(decodeURIComponent(segment))).join('/'),
    query.filter(([k]) => k !== 'X-Amz-Signature').map(([k, v]) => [encode(k), encode(v)])
        .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`).join('&'),
    signedHeaders.split(';').map((h) =>
        `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, sha256(canonical)].join('\n');
  let key = 'AWS4S3RVER';
  for (const part of [day, region, 's3', 'aws4_request']) key = hmac(key, part);
  const expected = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  return expected === signature ? null : 'SignatureDoesNotMatch';
}

function reply(res, status, body) {
  res.writeHead(status, {'content-type': 'application/xml'});
  res.end(body);
}

const errorXml = (code) => `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>${code}</Code><Message>${code}</Message></Error>`;

new S3rver({address: '127.0.0.1', port: 0, directory: process.argv[3], silent: true})
    .run().then(({port: upstream}) => {
  const agent = new http.Agent({keepAlive: true});
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/__log') {
        res.end(log.join('\n'));
        if (req.method === 'DELETE') log.length = 0;
        return;
      }
      if (req.url.startsWith('/__fail/')) {
        failures.push([Number(req.url.slice(8)), body.toString()]);
        return res.end();
      }
      log.push(`${req.method} ${req.url}` + (req.headers.range ? ` range=${req.headers.range}` : ''));
      if (failures.length) {
        const [status, text] = failures.shift();
        return reply(res, status, text || errorXml(status === 503 ? 'SlowDown' : 'InternalError'));
      }
      const error = verify(req, body);
      if (error) return reply(res, error.endsWith('Mismatch') ? 400 : 403, errorXml(error));
      const up = http.request({host: '127.0.0.1', port: upstream, method: req.method,
                               path: req.url, headers: req.headers, agent}, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on('error', () => reply(res, 502, errorXml('BadGateway')));
      up.end(body);
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => {
    fs.writeFileSync(process.argv[4] + '.tmp', String(server.address().port));
    fs.renameSync(process.argv[4] + '.tmp', process.argv[4]);
  });
});
)js";

bool Accepts(uint16_t port) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  return !ec;
}

}  // namespace

ClosedPort::ClosedPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port_ = ntohs(address.sin_port);
  }
}

ClosedPort::~ClosedPort() {
  if (fd_ >= 0) ::close(fd_);
}

S3rver::S3rver() {
  const std::string module = std::string(PARLEY_NODE_TOOLS_DIR) + "/node_modules/s3rver";
  if (!fs::exists(module + "/package.json")) {
    error_ = "s3rver is not installed (" + module + "): run scripts/setup.sh";
    return;
  }
  char dir_template[] = "/tmp/parley-s3rver-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    error_ = "cannot create a temporary directory";
    return;
  }
  dir_ = dir_template;
  fs::create_directory(data_dir());
  std::ofstream(dir_ + "/proxy.js") << kProxyScript;
  // The proxy takes a port of the kernel's choosing and names it in a file: a port picked
  // here and handed over could be taken meanwhile by another test's server, which this
  // test would then talk to.
  const std::string script = dir_ + "/proxy.js", port_file = dir_ + "/port";
  const std::string data = data_dir();
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its
  // legacy provider.
  std::vector<std::string> args = {"node",   "--openssl-legacy-provider", script, module, data,
                                   port_file};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  if (::posix_spawnp(&pid_, "node", nullptr, nullptr, argv.data(), environ) != 0) {
    pid_ = -1;
    error_ = "cannot run node: run scripts/setup.sh";
    return;
  }
  // Node needs a few hundred milliseconds to load s3rver; poll until it accepts.
  for (auto deadline = std::chrono::steady_clock::now() + 15s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    if (port_ == 0) {
      std::ifstream in(port_file);
      unsigned port = 0;
      if (in >> port && port > 0 && port < 65536) port_ = static_cast<uint16_t>(port);
    }
    if (port_ != 0 && Accepts(port_)) return;
    if (int status = 0; ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "s3rver exited at start (see stderr); run scripts/setup.sh";
      return;
    }
  }
  error_ = "s3rver did not accept connections within 15 s";
}

S3rver::~S3rver() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (!dir_.empty()) fs::remove_all(dir_);
}

}  // namespace parley::blob::s3_testing
