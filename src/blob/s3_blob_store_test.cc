// src/blob/s3_blob_store_test.cc
//
// S3BlobStore against a real s3rver (test/node, installed by scripts/setup.sh). s3rver 3 checks
// only the access key id of SigV4 requests, so the test puts a small Node proxy in front of it
// that verifies every signature and payload hash the way S3 does; the proxy also records the
// requests it saw and can answer the next one with a chosen failure.
#include "blob/s3_blob_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "http/client.h"
#include "http/io_runtime.h"

#ifndef PARLEY_NODE_TOOLS_DIR
#error "PARLEY_NODE_TOOLS_DIR must name <repo>/test/node (set in src/blob/CMakeLists.txt)"
#endif

extern char** environ;

namespace parley::blob {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// Written to the server's temporary directory and run with node.
constexpr std::string_view kProxyScript = R"js(
'use strict';
// argv: <s3rver module dir> <data dir> <port>. Checks every request's AWS SigV4 signature
// (header or query auth, secret "S3RVER") the way S3 does, since s3rver 3 checks only the
// access key id, then forwards it to s3rver. Also: GET|DELETE /__log (requests seen) and
// POST /__fail/<status> (answer the next request with <status> and the posted body).
const crypto = require('crypto');
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
  server.listen(Number(process.argv[4]), '127.0.0.1');
});
)js";

// A free loopback port: bound to port 0, then released for the server to take.
uint16_t FreePort() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

bool Accepts(uint16_t port) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  return !ec;
}

// s3rver behind the verifying proxy, in one node process with its own temporary directory.
class S3rver {
 public:
  S3rver() {
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
    port_ = FreePort();
    const std::string script = dir_ + "/proxy.js", port = std::to_string(port_);
    const std::string data = data_dir();
    // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its
    // legacy provider.
    std::vector<std::string> args = {"node", "--openssl-legacy-provider", script, module, data,
                                     port};
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
      if (Accepts(port_)) return;
      if (int status = 0; ::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = "s3rver exited at start (see stderr); run scripts/setup.sh";
        return;
      }
    }
    error_ = "s3rver did not accept connections within 15 s";
  }

  ~S3rver() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  const std::string& error() const { return error_; }
  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string data_dir() const { return dir_ + "/data"; }

 private:
  std::string error_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen());
  return out;
}

// Lines of `text` containing `needle` (equal to it, when `exact`).
int CountLines(const std::string& text, std::string_view needle, bool exact = false) {
  int count = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = std::string_view(text).substr(pos, end - pos);
    if (exact ? line == needle : line.find(needle) != std::string_view::npos) ++count;
    pos = end + 1;
  }
  return count;
}

template <class T>
asio::awaitable<std::optional<T>> Wrap(asio::awaitable<T> task) {
  co_return co_await std::move(task);
}

struct ReadBack {
  std::string data;
  uint64_t size = 0;
  size_t largest_chunk = 0;
};

class S3BlobStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<S3rver>(); }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(server_->error().empty()) << server_->error();
    runtime_.Start(1);
    store_ = MakeStore(Options());
    ClearLog();
  }
  void TearDown() override {
    runtime_.Stop();  // before the client: no abort may still be running against it
  }

  static S3Options Options() {
    return {.endpoint = server_->url(), .credentials = {"S3RVER", "S3RVER"}, .list_page_keys = 2};
  }

  std::unique_ptr<S3BlobStore> MakeStore(S3Options options, const Clock* clock = nullptr) {
    auto store =
        S3BlobStore::Make(std::move(options), client_, clock ? *clock : SystemClock::Instance());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Runs `task` on the I/O thread and waits (co_spawn's future wants a default-constructible
  // value, hence the optional).
  template <class T>
  T Run(asio::awaitable<T> task) {
    if constexpr (std::is_void_v<T>) {
      auto future = asio::co_spawn(runtime_.context(), std::move(task), asio::use_future);
      PARLEY_CHECK(future.wait_for(60s) == std::future_status::ready);
      future.get();
    } else {
      auto future = asio::co_spawn(runtime_.context(), Wrap(std::move(task)), asio::use_future);
      PARLEY_CHECK(future.wait_for(60s) == std::future_status::ready);
      return std::move(*future.get());
    }
  }

  Status Put(BlobStore& store, const TenantId& tenant, const std::string& name,
             std::string_view data, size_t chunk = 700 * 1024) {
    Result<std::unique_ptr<BlobWriter>> writer = Run(store.Create(tenant, name));
    if (!writer.ok()) return writer.status();
    for (size_t i = 0; i < data.size(); i += chunk) {
      if (Status s = Run((*writer)->Append(data.substr(i, chunk))); !s.ok()) return s;
    }
    if ((*writer)->size() != data.size()) return Internal("writer size is wrong");
    return Run((*writer)->Commit());
  }

  Result<ReadBack> Read(BlobStore& store, const TenantId& tenant, const std::string& name) {
    PARLEY_ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, Run(store.Open(tenant, name)));
    ReadBack out;
    out.size = reader->size();
    for (;;) {
      PARLEY_ASSIGN_OR_RETURN(std::string chunk, Run(reader->Next()));
      if (chunk.empty()) return out;
      out.largest_chunk = std::max(out.largest_chunk, chunk.size());
      out.data += chunk;
    }
  }

  StatusCode OpenCode(const TenantId& tenant, const std::string& name) {
    Result<std::unique_ptr<BlobReader>> reader = Run(store_->Open(tenant, name));
    return reader.ok() ? StatusCode::kOk : reader.status().code();
  }

  std::vector<std::string> Names(const TenantId& tenant, int limit = 100) {
    Result<std::vector<BlobInfo>> list = Run(store_->List(tenant, limit));
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    std::vector<std::string> names;
    if (list.ok()) {
      for (const BlobInfo& info : *list) names.push_back(info.name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  http::ClientResponse Fetch(std::string method, std::string url, std::string body = "") {
    Result<http::ClientResponse> response = Run(client_.Send(
        {.method = std::move(method), .url = std::move(url), .body = std::move(body)}));
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? std::move(*response) : http::ClientResponse{};
  }
  // The requests the proxy forwarded since the last ClearLog: "METHOD /path?query [range=…]".
  std::string Log() { return Fetch("GET", server_->url() + "/__log").body; }
  void ClearLog() { Fetch("DELETE", server_->url() + "/__log"); }
  // The next S3 request gets `status` with `body` (an S3 error document when empty).
  void FailNext(int status, std::string body = "") {
    Fetch("POST", server_->url() + "/__fail/" + std::to_string(status), std::move(body));
  }

  static std::string Bucket(const TenantId& tenant) {
    return *S3BucketName(S3Options().bucket_pattern, tenant);
  }

  inline static std::unique_ptr<S3rver> server_;
  http::IoRuntime runtime_;
  http::Client client_{runtime_.context(), {}};
  std::unique_ptr<S3BlobStore> store_;
  const TenantId tenant_ = TenantId::New(SystemClock::Instance());
};

TEST_F(S3BlobStoreTest, SmallObjectRoundTripsAsOnePut) {
  const std::string name = NewBlobName();
  ASSERT_TRUE(Put(*store_, tenant_, name, "hello, attachment").ok());
  Result<ReadBack> back = Read(*store_, tenant_, name);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->data, "hello, attachment");
  EXPECT_EQ(back->size, 17u);

  const std::string log = Log();
  EXPECT_EQ(CountLines(log, "PUT /" + Bucket(tenant_), true), 1) << log;  // bucket created
  EXPECT_EQ(CountLines(log, "PUT /" + Bucket(tenant_) + "/" + name, true), 1) << log;
  EXPECT_EQ(CountLines(log, "uploads"), 0) << log;

  Result<std::vector<BlobInfo>> list = Run(store_->List(tenant_, 10));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, name);
  EXPECT_EQ((*list)[0].stored_bytes, 17u);
  EXPECT_LT(std::chrono::abs(SystemClock::Instance().Now() - (*list)[0].modified_at), 5min);
  EXPECT_EQ(store_->kind(), "s3");
}

TEST_F(S3BlobStoreTest, EmptyObjectRoundTrips) {
  const std::string name = NewBlobName();
  ASSERT_TRUE(Put(*store_, tenant_, name, "").ok());
  Result<ReadBack> back = Read(*store_, tenant_, name);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->size, 0u);
  EXPECT_EQ(back->data, "");
}

TEST_F(S3BlobStoreTest, LargeObjectIsMultipartAndReadBackInRanges) {
  const std::string name = NewBlobName();
  const std::string data = RandomBytes(12 << 20, 7);
  ASSERT_TRUE(Put(*store_, tenant_, name, data).ok());
  std::string log = Log();
  EXPECT_EQ(CountLines(log, "?uploads="), 1) << log;
  EXPECT_EQ(CountLines(log, "?partNumber="), 3) << log;  // 5 + 5 + 2 MiB
  EXPECT_EQ(CountLines(log, "POST /" + Bucket(tenant_) + "/" + name + "?uploadId="), 1) << log;

  ClearLog();
  Result<ReadBack> back = Read(*store_, tenant_, name);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->size, data.size());
  EXPECT_TRUE(back->data == data) << "read back differs";
  EXPECT_LE(back->largest_chunk, 64u * 1024);
  log = Log();
  EXPECT_EQ(CountLines(log, "range=bytes="), 12) << log;  // 1 MiB each
  EXPECT_EQ(CountLines(log, "range=bytes=0-1048575"), 1) << log;
  EXPECT_EQ(CountLines(log, "range=bytes=11534336-12582911"), 1) << log;
}

TEST_F(S3BlobStoreTest, ObjectOfExactlyOnePartIsOnePut) {
  const std::string name = NewBlobName();
  const std::string data = RandomBytes(kS3PartBytes, 8);
  ASSERT_TRUE(Put(*store_, tenant_, name, data, kS3PartBytes).ok());
  EXPECT_EQ(CountLines(Log(), "uploads"), 0);
  Result<ReadBack> back = Read(*store_, tenant_, name);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->data == data);
}

TEST_F(S3BlobStoreTest, ObjectIsInvisibleBeforeCommitAndAbsentAfterAbort) {
  const std::string small = NewBlobName();
  auto writer = Run(store_->Create(tenant_, small));
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE(Run((*writer)->Append("not yet")).ok());
  EXPECT_EQ(OpenCode(tenant_, small), StatusCode::kNotFound);
  Run((*writer)->Abort());
  Run((*writer)->Abort());  // idempotent
  EXPECT_EQ(OpenCode(tenant_, small), StatusCode::kNotFound);
  EXPECT_EQ(Run((*writer)->Append("more")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Run((*writer)->Commit()).code(), StatusCode::kFailedPrecondition);

  // Past one part, a part is already stored, yet nothing is visible.
  const std::string large = NewBlobName();
  const std::string data = RandomBytes(6 << 20, 9);
  auto multipart = Run(store_->Create(tenant_, large));
  ASSERT_TRUE(multipart.ok()) << multipart.status().ToString();
  ASSERT_TRUE(Run((*multipart)->Append(data)).ok());
  EXPECT_EQ(CountLines(Log(), "?partNumber=1&"), 1);
  EXPECT_EQ(OpenCode(tenant_, large), StatusCode::kNotFound);
  ClearLog();
  Run((*multipart)->Abort());
  EXPECT_EQ(CountLines(Log(), "DELETE /" + Bucket(tenant_) + "/" + large + "?uploadId="), 1);
  EXPECT_EQ(OpenCode(tenant_, large), StatusCode::kNotFound);
  EXPECT_TRUE(Names(tenant_).empty());

  // Abort after Commit keeps the object.
  const std::string kept = NewBlobName();
  auto committed = Run(store_->Create(tenant_, kept));
  ASSERT_TRUE(committed.ok());
  ASSERT_TRUE(Run((*committed)->Append("kept")).ok());
  ASSERT_TRUE(Run((*committed)->Commit()).ok());
  Run((*committed)->Abort());
  EXPECT_EQ(OpenCode(tenant_, kept), StatusCode::kOk);
}

TEST_F(S3BlobStoreTest, DestroyingAnUncommittedUploadAbortsIt) {
  const std::string name = NewBlobName();
  const std::string data = RandomBytes(6 << 20, 10);
  auto writer = Run(store_->Create(tenant_, name));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(Run((*writer)->Append(data)).ok());
  ClearLog();
  writer->reset();
  // The abort runs in the background: wait for it to reach the server.
  const std::string abort = "DELETE /" + Bucket(tenant_) + "/" + name + "?uploadId=";
  for (int i = 0; i < 100 && CountLines(Log(), abort) == 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(CountLines(Log(), abort), 1);
  EXPECT_EQ(OpenCode(tenant_, name), StatusCode::kNotFound);
}

TEST_F(S3BlobStoreTest, DeleteRemovesTheObjectAndAbsentObjectsAreFine) {
  const std::string name = NewBlobName();
  ASSERT_TRUE(Put(*store_, tenant_, name, "bye").ok());
  EXPECT_TRUE(Run(store_->Delete(tenant_, name)).ok());
  EXPECT_EQ(OpenCode(tenant_, name), StatusCode::kNotFound);
  EXPECT_TRUE(Run(store_->Delete(tenant_, name)).ok());
  const TenantId never_written = TenantId::New(SystemClock::Instance());
  EXPECT_TRUE(Run(store_->Delete(never_written, name)).ok());
  EXPECT_TRUE(Names(never_written).empty());
}

TEST_F(S3BlobStoreTest, TenantsHaveSeparateBuckets) {
  const TenantId other = TenantId::New(SystemClock::Instance());
  std::vector<std::string> mine = {NewBlobName(), NewBlobName(), NewBlobName()};
  std::sort(mine.begin(), mine.end());
  for (const std::string& name : mine) ASSERT_TRUE(Put(*store_, tenant_, name, name).ok());
  const std::string theirs = NewBlobName();
  ASSERT_TRUE(Put(*store_, other, theirs, "theirs").ok());

  EXPECT_NE(Bucket(tenant_), Bucket(other));
  EXPECT_TRUE(fs::is_directory(server_->data_dir() + "/" + Bucket(tenant_)));
  EXPECT_TRUE(fs::is_directory(server_->data_dir() + "/" + Bucket(other)));
  EXPECT_EQ(Names(tenant_), mine);  // two pages of two
  EXPECT_EQ(Names(other), std::vector<std::string>{theirs});
  EXPECT_EQ(Names(tenant_, 2).size(), 2u);
  EXPECT_EQ(OpenCode(other, mine[0]), StatusCode::kNotFound);
  EXPECT_EQ(OpenCode(tenant_, theirs), StatusCode::kNotFound);
}

TEST_F(S3BlobStoreTest, DeleteTenantRemovesEveryObjectAndTheBucket) {
  std::vector<std::string> names;
  for (int i = 0; i < 5; ++i) {
    names.push_back(NewBlobName());
    ASSERT_TRUE(Put(*store_, tenant_, names.back(), "x").ok());
  }
  const std::string bucket_dir = server_->data_dir() + "/" + Bucket(tenant_);
  ASSERT_TRUE(fs::is_directory(bucket_dir));
  ASSERT_TRUE(Run(store_->DeleteTenant(tenant_)).ok());
  EXPECT_FALSE(fs::exists(bucket_dir));
  EXPECT_TRUE(Names(tenant_).empty());
  for (const std::string& name : names) EXPECT_EQ(OpenCode(tenant_, name), StatusCode::kNotFound);
  EXPECT_TRUE(Run(store_->DeleteTenant(tenant_)).ok());  // no bucket: fine

  // The store forgot the bucket: writing again creates it again.
  ASSERT_TRUE(Put(*store_, tenant_, names[0], "again").ok());
  EXPECT_EQ(Names(tenant_), std::vector<std::string>{names[0]});
}

TEST_F(S3BlobStoreTest, PresignedUrlServesTheObject) {
  const std::string name = NewBlobName();
  ASSERT_TRUE(Put(*store_, tenant_, name, "via a link").ok());
  Result<std::optional<std::string>> url = store_->PresignGet(tenant_, name, 60s);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  ASSERT_TRUE(url->has_value());
  EXPECT_THAT(**url, HasSubstr("X-Amz-Expires=60&"));
  http::ClientResponse response = Fetch("GET", **url);
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, "via a link");
}

TEST_F(S3BlobStoreTest, PresignedUrlPastItsLifetimeIsRefused) {
  const std::string name = NewBlobName();
  ASSERT_TRUE(Put(*store_, tenant_, name, "too late").ok());
  FakeClock two_hours_ago(SystemClock::Instance().Now() - 2h);
  std::unique_ptr<S3BlobStore> past = MakeStore(Options(), &two_hours_ago);
  Result<std::optional<std::string>> expired = past->PresignGet(tenant_, name, 60s);
  ASSERT_TRUE(expired.ok() && expired->has_value());
  EXPECT_EQ(Fetch("GET", **expired).status, 403);
  Result<std::optional<std::string>> valid = past->PresignGet(tenant_, name, 3h);
  ASSERT_TRUE(valid.ok() && valid->has_value());
  EXPECT_EQ(Fetch("GET", **valid).status, 200);
}

TEST_F(S3BlobStoreTest, PresignGetRejectsBadNamesAndLifetimes) {
  const std::string name = NewBlobName();
  EXPECT_EQ(store_->PresignGet(tenant_, name, 0s).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->PresignGet(tenant_, name, 604801s).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->PresignGet(tenant_, name, 604800s).ok());
  EXPECT_EQ(store_->PresignGet(tenant_, "../" + name, 60s).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(S3BlobStoreTest, WrongSecretKeyIsPermissionDenied) {
  S3Options options = Options();
  options.credentials.secret_access_key = "not-the-secret";
  std::unique_ptr<S3BlobStore> wrong = MakeStore(options);
  Result<std::unique_ptr<BlobWriter>> writer = Run(wrong->Create(tenant_, NewBlobName()));
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(writer.status().message(), HasSubstr("s3: access denied"));
  EXPECT_THAT(writer.status().message(), HasSubstr("SignatureDoesNotMatch"));
  EXPECT_THAT(writer.status().message(), Not(HasSubstr("not-the-secret")));
}

TEST_F(S3BlobStoreTest, UnknownAccessKeyIsPermissionDenied) {
  S3Options options = Options();
  options.credentials.access_key_id = "NOBODY";
  std::unique_ptr<S3BlobStore> unknown = MakeStore(options);
  Result<std::vector<BlobInfo>> list = Run(unknown->List(tenant_, 10));
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(list.status().message(), HasSubstr("InvalidAccessKeyId"));  // s3rver's own check
}

TEST_F(S3BlobStoreTest, ServerErrorsAreUnavailableAndLeakNoContents) {
  FailNext(503);
  Result<std::vector<BlobInfo>> list = Run(store_->List(tenant_, 10));
  EXPECT_EQ(list.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(list.status().message(), HasSubstr("SlowDown"));

  auto writer = Run(store_->Create(tenant_, NewBlobName()));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(Run((*writer)->Append("confidential bytes")).ok());
  FailNext(500);
  Status commit = Run((*writer)->Commit());
  EXPECT_EQ(commit.code(), StatusCode::kUnavailable);
  EXPECT_THAT(commit.message(), HasSubstr("PutObject (HTTP 500 InternalError)"));
  EXPECT_THAT(commit.message(), Not(HasSubstr("confidential")));
  EXPECT_EQ(Run((*writer)->Commit()).code(), StatusCode::kFailedPrecondition);
  Run((*writer)->Abort());
}

TEST_F(S3BlobStoreTest, MalformedResponsesAreUnavailable) {
  FailNext(200, "<ListBucketResult><Contents><Key>&bogus;</Key><Size>1</Size></Contents>");
  EXPECT_EQ(Run(store_->List(tenant_, 10)).status().code(), StatusCode::kUnavailable);
  FailNext(200, "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
  EXPECT_EQ(Run(store_->List(tenant_, 10)).status().code(), StatusCode::kUnavailable);

  auto writer = Run(store_->Create(tenant_, NewBlobName()));
  ASSERT_TRUE(writer.ok());
  FailNext(200, "<InitiateMultipartUploadResult></InitiateMultipartUploadResult>");
  Status no_upload_id = Run((*writer)->Append(RandomBytes(kS3PartBytes + 1, 11)));
  EXPECT_EQ(no_upload_id.code(), StatusCode::kUnavailable);
  EXPECT_THAT(no_upload_id.message(), HasSubstr("UploadId"));
}

TEST_F(S3BlobStoreTest, InvalidNamesAreRejectedWithoutARequest) {
  const std::string upper = "0123456789ABCDEF0123456789ABCDEF";
  EXPECT_EQ(Run(store_->Create(tenant_, "../../etc/passwd")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenCode(tenant_, upper), StatusCode::kInvalidArgument);
  EXPECT_EQ(Run(store_->Delete(tenant_, "")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Log(), "");
}

TEST(S3OptionsTest, BucketNameIsThePatternWithTheTenantId) {
  const TenantId tenant = TenantId::FromTrusted("tn_01HX3ABCDEFGHJKMNPQRSTVWXY");
  EXPECT_EQ(*S3BucketName("parley-{tenant}", tenant), "parley-tn-01hx3abcdefghjkmnpqrstvwxy");
  EXPECT_EQ(*S3BucketName("a.{tenant}.b", tenant), "a.tn-01hx3abcdefghjkmnpqrstvwxy.b");
}

TEST(S3OptionsTest, RejectsBadOptions) {
  const auto code = [](auto mutate) {
    S3Options options{.endpoint = "http://127.0.0.1:9000", .credentials = {"KEY", "SECRET"}};
    mutate(options);
    return options.Validate();
  };
  EXPECT_TRUE(code([](S3Options&) {}).ok());
  for (const char* pattern :
       {"parley", "Parley-{tenant}", "-{tenant}", "{tenant}.", "a..{tenant}", "a-.{tenant}",
        "{tenant}_x", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-{tenant}"}) {
    Status s = code([&](S3Options& o) { o.bucket_pattern = pattern; });
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << pattern;
    EXPECT_THAT(s.message(), HasSubstr("s3.bucket_pattern")) << pattern;
  }
  for (const char* endpoint : {"", "127.0.0.1:9000", "ftp://h", "http://h/bucket", "http://h/",
                               "http://h?x=1", "http://user@h"}) {
    EXPECT_THAT(code([&](S3Options& o) { o.endpoint = endpoint; }).message(),
                HasSubstr("s3.endpoint"))
        << endpoint;
  }
  EXPECT_THAT(code([](S3Options& o) { o.credentials.secret_access_key = ""; }).message(),
              HasSubstr("s3.credentials"));
  EXPECT_THAT(code([](S3Options& o) { o.credentials.access_key_id = "A/B"; }).message(),
              HasSubstr("s3.credentials"));
  EXPECT_THAT(code([](S3Options& o) { o.region = "US_EAST"; }).message(), HasSubstr("s3.region"));
  EXPECT_THAT(code([](S3Options& o) { o.request_timeout = 0ms; }).message(),
              HasSubstr("s3.request_timeout"));
  EXPECT_THAT(code([](S3Options& o) { o.list_page_keys = 1001; }).message(),
              HasSubstr("s3.list_page_keys"));

  asio::io_context io;
  http::Client client(io, {});
  EXPECT_EQ(S3BlobStore::Make({.endpoint = "http://h", .bucket_pattern = "x"}, client,
                              SystemClock::Instance())
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(S3BlobStoreUnreachableTest, ClosedPortIsUnavailable) {
  http::IoRuntime runtime;
  runtime.Start(1);
  http::Client client(runtime.context(), {});
  auto store = S3BlobStore::Make({.endpoint = "http://127.0.0.1:" + std::to_string(FreePort()),
                                  .credentials = {"S3RVER", "S3RVER"}},
                                 client, SystemClock::Instance());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const TenantId tenant = TenantId::New(SystemClock::Instance());
  auto future = asio::co_spawn(runtime.context(), Wrap((*store)->Create(tenant, NewBlobName())),
                               asio::use_future);
  ASSERT_EQ(future.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(future.get()->status().code(), StatusCode::kUnavailable);
  runtime.Stop();
}

}  // namespace
}  // namespace parley::blob
