package io.raft4j.examples.kv;

import io.raft4j.examples.docs.DocFiles;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every field of {@code INFO raft} is named, as written, in getting-started.md's table of admin
 * commands: operators grep and graph these names, so a field missing or misspelled there is a
 * wrong doc.
 */
class InfoFieldsDocumentedTest {

    @Test
    void everyInfoRaftFieldIsNamedInGettingStarted() throws Exception {
        String doc = Files.readString(DocFiles.root().resolve("docs/getting-started.md"), StandardCharsets.UTF_8);
        List<String> undocumented = new ArrayList<>();
        try (InMemoryKvCluster cluster = new InMemoryKvCluster(1)) {
            KvNode leader = cluster.awaitLeader();
            try (RespSocket s = new RespSocket(cluster.port(leader), 10_000)) {
                String info = RespSocket.text(s.call("INFO", "raft"));
                for (String line : info.split("\r\n")) {
                    int colon = line.indexOf(':');
                    if (line.startsWith("#") || colon < 0) {
                        continue;
                    }
                    String field = line.substring(0, colon);
                    if (!doc.contains("`" + field + "`")) {
                        undocumented.add(field);
                    }
                }
            }
        }
        assertEquals(List.of(), undocumented, "INFO raft fields not named in docs/getting-started.md");
    }
}
