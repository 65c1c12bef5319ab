#include "channels/channel_adapter.h"

namespace parley::channels {

Message ToCommonFormat(const InboundMessage& in, const InboundPlacement& where) {
  Message m;
  m.id = where.id;
  m.tenant = where.tenant;
  m.conversation = where.conversation;
  m.channel = where.channel;
  m.direction = Direction::kInbound;
  m.author.role = AuthorRole::kCustomer;
  m.author.customer = where.customer;
  m.author.name = in.contact_name;
  m.provider_message_id = in.provider_message_id;
  m.reply_to_provider_id = in.reply_to_provider_id;
  m.sent_at = in.sent_at;
  m.received_at = where.received_at;
  m.content = in.content;
  return m;
}

}  // namespace parley::channels
