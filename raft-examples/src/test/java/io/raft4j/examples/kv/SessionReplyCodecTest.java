package io.raft4j.examples.kv;

import io.raft4j.examples.kv.resp.Reply;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SessionReplyCodecTest {
    private static final SessionReplyCodec CODEC = SessionReplyCodec.INSTANCE;

    @Test
    void everyKindOfReplyRoundTrips() {
        List<Reply> replies = List.of(Reply.OK, Reply.NIL, Reply.integer(-42), Reply.integer(Long.MAX_VALUE),
                Reply.bulk("väl\\r\\nue"), Reply.bulk(new byte[0]), Reply.error("ERR value is not an integer"),
                Reply.simple("QUEUED"), Reply.EMPTY_ARRAY, new Reply.Array(null),
                Reply.array(List.of(Reply.bulk("a"), Reply.NIL, Reply.array(List.of(Reply.integer(1))))));
        for (Reply reply : replies) {
            assertEquals(reply, CODEC.decode(CODEC.encode(reply)), reply.toString());
        }
    }

    @Test
    void damagedBytesAreRefusedWithAClearError() {
        byte[] bulk = CODEC.encode(Reply.bulk("value"));
        assertThrows(IllegalArgumentException.class, () -> CODEC.decode(Arrays.copyOf(bulk, bulk.length - 1)));
        assertThrows(IllegalArgumentException.class, () -> CODEC.decode(new byte[] {9}));
        byte[] longer = Arrays.copyOf(bulk, bulk.length + 1);
        assertThrows(IllegalArgumentException.class, () -> CODEC.decode(longer));
    }
}
