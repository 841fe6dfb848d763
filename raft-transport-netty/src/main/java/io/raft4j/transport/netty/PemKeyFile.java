package io.raft4j.transport.netty;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tells what is wrong with a private key file for {@link TlsSettings}, from its PEM header, before
 * Netty reads it: a key in another format than PKCS#8 (OpenSSL's traditional "BEGIN EC PRIVATE
 * KEY"), an encrypted key without a password, an unencrypted one with a password. Netty's answer
 * to each was the same "File does not contain valid private key", and only when the transport
 * started.
 */
final class PemKeyFile {
    private static final Pattern BEGIN = Pattern.compile("-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----");

    private PemKeyFile() {
    }

    /** What is wrong with {@code key}, read with a password or not, if anything. */
    static Optional<String> problem(Path key, boolean passwordGiven) {
        String text;
        try {
            text = Files.readString(key, StandardCharsets.ISO_8859_1);   // any bytes: a DER file is not PEM either
        } catch (IOException e) {
            return Optional.of("TLS private key " + key + " cannot be read: " + e);
        }
        Matcher m = BEGIN.matcher(text);
        if (!m.find()) {
            return Optional.of("TLS private key " + key + " holds no PEM private key (-----BEGIN PRIVATE KEY-----"
                    + " or -----BEGIN ENCRYPTED PRIVATE KEY-----)");
        }
        String kind = m.group(1).trim();
        if (kind.isEmpty()) {
            return passwordGiven ? Optional.of("TLS private key " + key + " is not encrypted (BEGIN PRIVATE KEY), but a"
                    + " privateKeyPassword is given: give none") : Optional.empty();
        }
        if (kind.equals("ENCRYPTED")) {
            return passwordGiven ? Optional.empty() : Optional.of("TLS private key " + key + " is encrypted (BEGIN"
                    + " ENCRYPTED PRIVATE KEY), but no password is given");
        }
        return Optional.of("TLS private key " + key + " is in the " + kind + " format (BEGIN " + kind + " PRIVATE KEY),"
                + " not PKCS#8: convert it with 'openssl pkcs8 -topk8 -nocrypt -in old.key -out new.key' (without"
                + " -nocrypt to encrypt it with a password)");
    }
}
