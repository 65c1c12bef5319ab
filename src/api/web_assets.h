// src/api/web_assets.h
//
// The files of web/ (widget, agent console, demo pages), embedded in the binary at build time
// by cmake/EmbedFiles.cmake.
//
//   std::string_view js = parley::web::Asset("widget.js");
#pragma once

#include <string_view>

namespace parley::web {

// The bytes of web/<name>, or an empty view for a name that is not embedded.
std::string_view Asset(std::string_view name);

}  // namespace parley::web
