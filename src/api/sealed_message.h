// src/api/sealed_message.h
//
// A message as a store write keeps it: its JSON, its body sealed at its place, its
// message.created event built and sealed (EventRecorder::PrepareMessage), and for a client
// send with an Idempotency-Key the answer kept for it. Built before the write where it can
// be, off the single store writer (PrepareInbound in inbound.h, the client API's send in
// client_send.h), and otherwise in the write itself; the write then stores the pieces and
// records the event with EventRecorder::RecordPrepared.
//
//   SealedMessage sealed = SealMessage(key, clock, std::move(message));
//   record.body_sealed = sealed.body_sealed;  // in the write
//   recorder.RecordPrepared(w, sealed.event, message_conversation);
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/message.h"
#include "crypto/keys.h"
#include "delivery/event_recorder.h"

namespace parley::api {

struct SealedMessage {
  std::shared_ptr<const Message> message;
  std::string json;                // Serialize(*message): the stored body, and a send's answer
  std::string body_sealed;         // the message row's body, sealed at its place
  delivery::PreparedEvent event;   // message.created
  std::string idempotency_sealed;  // the answer kept for the Idempotency-Key; "" without one
};

// Serializes and seals `message` (complete: channel, content with its attachments resolved,
// reply_to and its provider id). `idempotency_key_hash`: a client send's Idempotency-Key
// hash, or "" (nothing kept). Thread-safe.
SealedMessage SealMessage(const crypto::DataKey& key, const Clock& clock, Message message,
                          std::string_view idempotency_key_hash = {});

}  // namespace parley::api
