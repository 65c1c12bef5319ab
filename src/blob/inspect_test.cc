#include "blob/inspect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

namespace parley::blob {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

std::string Png() {
  return Bytes({0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I',  'H',  'D',  'R', 0,
                0,    0,   1,   0,   0,    0,    1,    8,    6, 0, 0, 0,  0x1f, 0x15, 0xc4, 0x89});
}
std::string Jpeg() {
  return Bytes({0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0});
}
std::string Gif() { return "GIF89a" + Bytes({1, 0, 1, 0, 0x80, 0, 0}); }
std::string Pdf() {
  return "%PDF-1.4\n%" + Bytes({0xe2, 0xe3, 0xcf, 0xd3}) + "\n1 0 obj\n<< /Type /Catalog >>\n";
}
std::string Elf() {
  return Bytes(
      {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3e, 0, 1, 0, 0, 0});
}
// A Windows PE: MZ header whose e_lfanew points at "PE\0\0" and an i386 COFF header.
std::string WindowsExe() {
  std::string exe(512, '\0');
  exe[0] = 'M';
  exe[1] = 'Z';
  exe[0x3c] = static_cast<char>(0x80);
  exe.replace(0x80, 4, std::string("PE\0\0", 4));
  exe.replace(0x84, 2, Bytes({0x4c, 0x01}));
  exe.replace(0x94, 2, Bytes({0xe0, 0x00}));
  exe.replace(0x98, 2, Bytes({0x0b, 0x01}));
  return exe;
}
std::string WebM() {
  return Bytes({0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81,
                0x01, 0x42, 0xf2, 0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84}) +
         "webm";
}
std::string Text() { return "Hello,\nthe meeting moved to 3 pm. See you there.\n"; }
std::string Csv() { return "name,amount,date\nalice,10,2024-01-01\nbob,20,2024-01-02\n"; }

// A stored zip entry (local file header + data); CRCs are not checked by libmagic.
std::string ZipEntry(std::string_view name, std::string_view data) {
  auto le16 = [](size_t v) { return Bytes({int(v & 0xff), int((v >> 8) & 0xff)}); };
  auto le32 = [&](size_t v) { return le16(v & 0xffff) + le16(v >> 16); };
  return "PK" + Bytes({3, 4}) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(0) +
         le32(data.size()) + le32(data.size()) + le16(name.size()) + le16(0) + std::string(name) +
         std::string(data);
}
constexpr std::string_view kDocx =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

TEST(SniffMimeTypeTest, NamesCommonFormats) {
  EXPECT_EQ(*SniffMimeType(Png()), "image/png");
  EXPECT_EQ(*SniffMimeType(Jpeg()), "image/jpeg");
  EXPECT_EQ(*SniffMimeType(Gif()), "image/gif");
  EXPECT_EQ(*SniffMimeType(Pdf()), "application/pdf");
  EXPECT_EQ(*SniffMimeType(Text()), "text/plain");
  EXPECT_EQ(*SniffMimeType(WebM()), "video/webm");
}

TEST(SniffMimeTypeTest, NamesExecutables) {
  EXPECT_EQ(*SniffMimeType(Elf()), "application/x-executable");
  Result<std::string> exe = SniffMimeType(WindowsExe());
  ASSERT_TRUE(exe.ok());
  // file 5.44 says application/vnd.microsoft.portable-executable, older ones x-dosexec.
  EXPECT_THAT(*exe, Not(HasSubstr("image"))) << *exe;
  EXPECT_THAT(*exe, HasSubstr("application/")) << *exe;
}

TEST(SniffMimeTypeTest, EmptyInputIsXEmpty) {
  EXPECT_EQ(*SniffMimeType(""), "application/x-empty");
}

TEST(SniffMimeTypeTest, LooksOnlyAtTheFirstSniffBytes) {
  std::string head(kSniffBytes, 'a');
  head += Elf() + std::string(1000, '\0');
  EXPECT_EQ(*SniffMimeType(head), "text/plain");
}

TEST(SniffMimeTypeTest, TextCutInsideAUtf8SequenceIsStillText) {
  std::string text;
  while (text.size() < kSniffBytes + 10) text += "Привет, мир. ";
  EXPECT_EQ(*SniffMimeType(std::string_view(text).substr(0, 8191)), "text/plain");
}

TEST(SniffMimeTypeTest, IsSafeFromManyThreads) {
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < 50; ++i) {
        bool png = (i + t) % 2 == 0;
        Result<std::string> r = SniffMimeType(png ? Png() : Pdf());
        if (!r.ok() || *r != (png ? "image/png" : "application/pdf")) ++wrong[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(NormalizeMimeTypeTest, LowerCasesAndDropsParameters) {
  EXPECT_EQ(NormalizeMimeType("Image/PNG"), "image/png");
  EXPECT_EQ(NormalizeMimeType("text/plain; charset=utf-8"), "text/plain");
  EXPECT_EQ(NormalizeMimeType("  text/csv\t;x=y"), "text/csv");
  EXPECT_EQ(NormalizeMimeType("text/plain;"), "text/plain");
  EXPECT_EQ(NormalizeMimeType(std::string(kDocx)), kDocx);
  EXPECT_EQ(NormalizeMimeType("image/*"), "image/*");
}

TEST(NormalizeMimeTypeTest, RejectsInvalidSyntax) {
  for (std::string_view bad : {"", "   ", "image", "image/", "/png", "image/png/x", "ima ge/png",
                               "image/p ng", "image/png\r\n", "image/pn\"g", "ímage/png"}) {
    EXPECT_EQ(NormalizeMimeType(bad), "") << bad;
  }
}

TEST(NormalizeMimeTypeTest, BoundsTheLength) {
  std::string longest = "application/" + std::string(kMaxMimeTypeBytes - 12, 'x');
  EXPECT_EQ(NormalizeMimeType(longest), longest);
  EXPECT_EQ(NormalizeMimeType(longest + "x"), "");
  EXPECT_EQ(NormalizeMimeType(longest + "; " + std::string(10000, 'p')), longest);
}

TEST(CanonicalMimeTypeTest, MapsAliases) {
  EXPECT_EQ(CanonicalMimeType("image/jpg"), "image/jpeg");
  EXPECT_EQ(CanonicalMimeType("audio/mp3"), "audio/mpeg");
  EXPECT_EQ(CanonicalMimeType("audio/x-wav"), "audio/wav");
  EXPECT_EQ(CanonicalMimeType("audio/x-m4a"), "audio/mp4");
  EXPECT_EQ(CanonicalMimeType("image/png"), "image/png");
}

TEST(MimeTypeAllowedTest, MatchesExactTypesCaseInsensitively) {
  std::vector<std::string> list = {"image/png", "Application/PDF"};
  EXPECT_TRUE(MimeTypeAllowed(list, "image/png"));
  EXPECT_TRUE(MimeTypeAllowed(list, "IMAGE/PNG; x=y"));
  EXPECT_TRUE(MimeTypeAllowed(list, "application/pdf"));
  EXPECT_FALSE(MimeTypeAllowed(list, "image/gif"));
  EXPECT_FALSE(MimeTypeAllowed(list, "image/pngx"));
}

TEST(MimeTypeAllowedTest, MatchesTypeWildcards) {
  std::vector<std::string> list = {"image/*", "audio/*"};
  EXPECT_TRUE(MimeTypeAllowed(list, "image/webp"));
  EXPECT_TRUE(MimeTypeAllowed(list, "Audio/Ogg"));
  EXPECT_FALSE(MimeTypeAllowed(list, "video/mp4"));
  EXPECT_FALSE(MimeTypeAllowed(list, "imagex/png"));
}

TEST(MimeTypeAllowedTest, UnderstandsAliasesOnBothSides) {
  EXPECT_TRUE(MimeTypeAllowed({"image/jpg"}, "image/jpeg"));
  EXPECT_TRUE(MimeTypeAllowed({"audio/wav"}, "audio/x-wav"));
  EXPECT_TRUE(MimeTypeAllowed({"audio/x-wav"}, "audio/wave"));
}

TEST(MimeTypeAllowedTest, NeverMatchesInvalidEntriesOrTypes) {
  EXPECT_FALSE(MimeTypeAllowed({"*/*"}, "image/png"));
  EXPECT_FALSE(MimeTypeAllowed({"image", ""}, "image/png"));
  EXPECT_FALSE(MimeTypeAllowed({"image/*"}, "image/*"));
  EXPECT_FALSE(MimeTypeAllowed({"image/png"}, "not a type"));
  EXPECT_FALSE(MimeTypeAllowed({}, "image/png"));
}

TEST(ValidateAllowListTest, AcceptsTypesAndWildcards) {
  EXPECT_TRUE(ValidateAllowList({"image/*", "application/pdf", "Text/Plain"}).ok());
  EXPECT_TRUE(ValidateAllowList(DefaultAllowedTypes()).ok());
}

TEST(ValidateAllowListTest, NamesTheFirstBadEntry) {
  for (std::string bad : {"image", "*/*", "*/png", "image/png; q=1", "image/pn*", ""}) {
    Status s = ValidateAllowList({"image/png", bad});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.message(), "allowed_types[1]: must be type/subtype or type/*") << bad;
  }
}

TEST(DefaultAllowedTypesTest, CoversMessagingMediaButNotActiveContent) {
  std::vector<std::string> list = DefaultAllowedTypes();
  for (std::string_view ok : std::initializer_list<std::string_view>{
           "image/jpeg", "image/png", "image/heic", "audio/ogg", "audio/mpeg", "audio/amr",
           "audio/webm", "video/mp4", "video/quicktime", "application/pdf", "text/csv",
           "application/msword", kDocx, "application/vnd.oasis.opendocument.text"}) {
    EXPECT_TRUE(MimeTypeAllowed(list, ok)) << ok;
  }
  for (std::string_view no :
       {"application/zip", "application/x-executable", "text/html", "image/svg+xml",
        "text/x-shellscript", "application/x-empty", "application/octet-stream"}) {
    EXPECT_FALSE(MimeTypeAllowed(list, no)) << no;
  }
}

TEST(CheckDeclaredTypeTest, NoClaimIsAccepted) {
  EXPECT_TRUE(CheckDeclaredType("", "application/x-executable").ok());
  EXPECT_TRUE(CheckDeclaredType("  ", "application/x-executable").ok());
  EXPECT_TRUE(CheckDeclaredType("application/octet-stream", "application/x-executable").ok());
  EXPECT_TRUE(CheckDeclaredType("Application/Octet-Stream; x=1", "image/png").ok());
}

TEST(CheckDeclaredTypeTest, AcceptsMatchesAliasesAndParameters) {
  EXPECT_TRUE(CheckDeclaredType("image/png", "image/png").ok());
  EXPECT_TRUE(CheckDeclaredType("IMAGE/PNG; name=\"a.png\"", "image/png").ok());
  EXPECT_TRUE(CheckDeclaredType("image/jpg", "image/jpeg").ok());
  EXPECT_TRUE(CheckDeclaredType("audio/mp3", "audio/mpeg").ok());
  EXPECT_TRUE(CheckDeclaredType("audio/wav", "audio/x-wav").ok());
  EXPECT_TRUE(CheckDeclaredType("audio/x-wav", "audio/x-wav").ok());
}

TEST(CheckDeclaredTypeTest, AcceptsListedEquivalents) {
  EXPECT_TRUE(CheckDeclaredType("text/csv", "text/plain").ok());
  EXPECT_TRUE(CheckDeclaredType("text/plain", "text/csv").ok());
  EXPECT_TRUE(CheckDeclaredType("text/plain", "text/x-c").ok());
  EXPECT_TRUE(CheckDeclaredType(kDocx, "application/zip").ok());
  EXPECT_TRUE(CheckDeclaredType("application/msword", "application/CDFV2").ok());
  EXPECT_TRUE(CheckDeclaredType("application/ogg", "audio/ogg").ok());
  EXPECT_TRUE(CheckDeclaredType("audio/ogg", "application/ogg").ok());
  EXPECT_TRUE(CheckDeclaredType("video/mp4", "audio/x-m4a").ok());
  EXPECT_TRUE(CheckDeclaredType("audio/mp4", "video/mp4").ok());
  EXPECT_TRUE(CheckDeclaredType("audio/webm", "video/webm").ok());
  EXPECT_TRUE(CheckDeclaredType("audio/aac", "audio/x-hx-aac-adts").ok());
}

TEST(CheckDeclaredTypeTest, RejectsContentThatContradictsTheClaim) {
  Status s = CheckDeclaredType("image/png", "application/x-dosexec");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "declared type image/png does not match the file's content (application/x-dosexec)");
  EXPECT_FALSE(CheckDeclaredType("image/png", "image/jpeg").ok());
  EXPECT_FALSE(CheckDeclaredType("text/plain", "application/pdf").ok());
  EXPECT_FALSE(CheckDeclaredType("text/csv", "text/x-shellscript").ok());
  EXPECT_FALSE(CheckDeclaredType("application/zip", kDocx).ok());  // the table is one-way
  EXPECT_FALSE(CheckDeclaredType("video/webm", "video/mp4").ok());
}

TEST(CheckDeclaredTypeTest, RejectsAnInvalidClaim) {
  Status s = CheckDeclaredType("<script>", "text/plain");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "declared type is not a valid type/subtype");
}

TEST(InspectTest, AcceptsAnImageThatIsWhatItClaims) {
  Result<Inspection> r = Inspect(Png(), "image/png", DefaultAllowedTypes());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->mime_type, "image/png");
  r = Inspect(Jpeg(), "image/jpg; name=cat.jpg", DefaultAllowedTypes());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->mime_type, "image/jpeg");
}

TEST(InspectTest, RejectsAnExecutableDisguisedAsAnImage) {
  Result<Inspection> r = Inspect(Elf(), "image/png", DefaultAllowedTypes());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "declared type image/png does not match the file's content (application/x-executable)");
  r = Inspect(WindowsExe(), "image/png", {"image/*", "application/*"});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(InspectTest, ChecksTheAllowListAgainstTheContentNotTheClaim) {
  Result<Inspection> r = Inspect(Elf(), "", DefaultAllowedTypes());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "file type application/x-executable is not allowed");
  r = Inspect(Pdf(), "application/octet-stream", {"image/*"});
  EXPECT_EQ(r.status().message(), "file type application/pdf is not allowed");
  r = Inspect(Pdf(), "", {"image/*", "application/pdf"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mime_type, "application/pdf");
}

TEST(InspectTest, MessagesNeverContainFileContent) {
  std::string secret = "SECRET-CONTENT the launch code is 1234\n";
  Result<Inspection> r = Inspect(secret, "image/png", DefaultAllowedTypes());
  EXPECT_EQ(r.status().message(),
            "declared type image/png does not match the file's content (text/plain)");
  r = Inspect("#!/bin/sh\nSECRET-CONTENT\n", "", DefaultAllowedTypes());
  EXPECT_EQ(r.status().message(), "file type text/x-shellscript is not allowed");
}

TEST(InspectTest, ReportsTheMorePreciseDeclaredEquivalent) {
  Result<Inspection> r = Inspect(WebM(), "audio/webm; codecs=opus", {"audio/*"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->mime_type, "audio/webm");
  r = Inspect(Text(), "text/csv", DefaultAllowedTypes());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->mime_type, "text/csv");
  r = Inspect(Csv(), "text/plain", DefaultAllowedTypes());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->mime_type, "text/plain");
  r = Inspect(WebM(), "", {"audio/*"});  // no claim: libmagic's name decides
  EXPECT_EQ(r.status().message(), "file type video/webm is not allowed");
}

TEST(InspectTest, OoxmlDeclaredForAZipNeedsTheOoxmlMarker) {
  // [Content_Types].xml not first: file 5.44 calls this application/zip.
  std::string docx = ZipEntry("docProps/app.xml", "<Properties/>") +
                     ZipEntry("[Content_Types].xml", "<Types/>") +
                     ZipEntry("word/document.xml", "<w:document/>");
  Result<Inspection> r = Inspect(docx, kDocx, DefaultAllowedTypes());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->mime_type, kDocx);

  std::string zip = ZipEntry("docProps/app.xml", "<Properties/>") +
                    ZipEntry("word/document.xml", "<w:document/>");
  ASSERT_EQ(*SniffMimeType(zip), "application/zip");
  r = Inspect(zip, kDocx, DefaultAllowedTypes());
  EXPECT_EQ(r.status().message(), "file type application/zip is not allowed");
  r = Inspect(zip, "", DefaultAllowedTypes());
  EXPECT_EQ(r.status().message(), "file type application/zip is not allowed");
  r = Inspect(zip, "application/zip", {"application/zip"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->mime_type, "application/zip");
}

TEST(InspectTest, LegacyOfficeDeclaredForAnOle2FileKeepsTheOfficeType) {
  std::string ole =
      Bytes({0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}) + std::string(4000, '\0');
  ASSERT_EQ(CanonicalMimeType(*SniffMimeType(ole)), "application/x-ole-storage");
  Result<Inspection> r = Inspect(ole, "application/msword", DefaultAllowedTypes());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->mime_type, "application/msword");
  r = Inspect(ole, "", DefaultAllowedTypes());
  EXPECT_EQ(r.status().message(), "file type application/x-ole-storage is not allowed");
}

TEST(InspectTest, EmptyFileIsNotAllowedByDefault) {
  Result<Inspection> r = Inspect("", "", DefaultAllowedTypes());
  EXPECT_EQ(r.status().message(), "file type application/x-empty is not allowed");
}

}  // namespace
}  // namespace parley::blob
