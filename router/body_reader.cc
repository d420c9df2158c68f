#include "router/body_reader.h"

#include <algorithm>
#include <boost/beast/http/error.hpp>

namespace duet::router {

std::size_t BodyReader::put(std::string_view input, std::string& out,
                            boost::system::error_code& ec) {
  ec = {};
  if (done_) return 0;
  switch (framing_) {
    case Framing::none:
      return 0;
    case Framing::until_eof:
      out.append(input);
      return input.size();
    case Framing::length: {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, input.size()));
      out.append(input.data(), n);
      left_ -= n;
      done_ = left_ == 0;
      return n;
    }
    case Framing::chunked:
      break;
  }
  std::size_t used = 0;
  while (used < input.size() && !done_) {
    auto piece = chunks_->next(input.substr(used), ec);
    out.append(piece.data);
    used += piece.used;
    if (ec) return used;
    done_ = chunks_->done();
  }
  return used;
}

void BodyReader::put_eof(boost::system::error_code& ec) {
  if (framing_ == Framing::until_eof) done_ = true;
  ec = done_ ? boost::system::error_code{} : boost::beast::http::error::partial_message;
}

}  // namespace duet::router
