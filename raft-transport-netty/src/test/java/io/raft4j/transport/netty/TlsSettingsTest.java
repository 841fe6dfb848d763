package io.raft4j.transport.netty;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TlsSettingsTest {
    @TempDir
    Path dir;

    /**
     * Settings and configurations end up in logs and exception messages (a record's toString is
     * what a debugger, a log line or a failed assertion shows): the key's password must not.
     */
    @Test
    void theKeyPasswordIsNotInTheTextOfTheSettingsNorOfTheConfiguration() throws Exception {
        Path cert = Files.writeString(dir.resolve("n.pem"), "cert");
        Path key = Files.writeString(dir.resolve("n.key"), "-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
        Path ca = Files.writeString(dir.resolve("ca.pem"), "ca");
        TlsSettings tls = new TlsSettings(cert, key, "hunter2-secret", ca);
        NettyTransportConfig config = NettyTransportConfig.builder("c").tls(tls).build();

        assertFalse(tls.toString().contains("hunter2-secret"), tls.toString());
        assertFalse(config.toString().contains("hunter2-secret"), config.toString());
        assertTrue(tls.toString().contains(key.toString()), "the files are still named: " + tls);
        Path plainKey = Files.writeString(dir.resolve("plain.key"), "-----BEGIN PRIVATE KEY-----\n");
        assertFalse(TlsSettings.of(cert, plainKey, ca).toString().contains("privateKeyPassword=***"),
                "an unencrypted key shows no password");
    }

    /** New settings check node ids unless told not to; the settings' text says which. */
    @Test
    void nodeIdsAreCheckedUnlessTurnedOff() throws Exception {
        Path cert = Files.writeString(dir.resolve("n.pem"), "cert");
        Path key = Files.writeString(dir.resolve("n.key"), "-----BEGIN PRIVATE KEY-----\n");
        Path ca = Files.writeString(dir.resolve("ca.pem"), "ca");
        assertTrue(TlsSettings.of(cert, key, ca).checkNodeIds());
        assertTrue(new TlsSettings(cert, key, null, ca).checkNodeIds());
        TlsSettings off = TlsSettings.of(cert, key, ca).withoutNodeIdCheck();
        assertFalse(off.checkNodeIds());
        assertTrue(off.toString().contains("checkNodeIds=false"), off.toString());
    }
}
