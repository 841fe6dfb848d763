package io.raft4j.examples.kv;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the password of an encrypted TLS key from the file {@code --tls-key-password-file} names.
 * A file, not an option value: a command line is visible to every user of the machine.
 */
final class KeyPasswordFile {
    private KeyPasswordFile() {
    }

    /**
     * The file's text, UTF-8, without the line endings it ends with ({@code echo secret > file}
     * writes one, and no one means it as part of the password).
     *
     * <p>Only printable ASCII is taken: Java decrypts a PKCS#8 key (PBES2, what {@code openssl pkcs8
     * -topk8} writes) only with such a password, and any other turned into Netty's "File does not
     * contain valid private key", which sent the user looking at the key rather than the password.
     *
     * @throws IllegalArgumentException saying what is wrong: the file cannot be read, is not
     *                                  UTF-8, holds nothing but line endings, or other than
     *                                  printable ASCII before them
     */
    static String read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + " is not UTF-8 text");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e);
        }
        int end = text.length();
        while (end > 0 && (text.charAt(end - 1) == '\n' || text.charAt(end - 1) == '\r')) {
            end--;
        }
        if (end == 0) {
            throw new IllegalArgumentException(file + " holds no password");
        }
        String password = text.substring(0, end);
        for (int i = 0; i < password.length(); i++) {
            char c = password.charAt(i);
            if (c < ' ' || c > '~') {
                throw new IllegalArgumentException(file + " holds a character other than printable ASCII (at " + i
                        + "): Java cannot decrypt a key with such a password; encrypt the key again with one of"
                        + " letters, digits, punctuation and spaces");
            }
        }
        return password;
    }
}
