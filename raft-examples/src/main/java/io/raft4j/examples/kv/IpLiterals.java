package io.raft4j.examples.kv;

/**
 * Reads IP address literals from their text alone, with no name lookup and no system call: what a
 * client event loop may do with an address a client sent ({@code InetAddress.getByName} looks up
 * anything it cannot parse, and may block for as long as DNS takes).
 */
final class IpLiterals {
    private static final int GROUPS = 8;
    private static final int IPV4_MAPPED_PREFIX = 0xffff;

    private IpLiterals() {
    }

    /**
     * Whether {@code host} is an IPv6 literal (RFC 4291 text: eight groups of up to four hex digits,
     * one {@code ::} standing for a run of zero groups, the last 32 bits possibly as a dotted IPv4
     * address), with an optional {@code %scope} (an interface name or number).
     */
    static boolean isIpv6Literal(String host) {
        return ipv6Groups(host) != null;
    }

    /**
     * Whether {@code host} is a literal of the wildcard address: {@code ::} in any of its spellings
     * (and the IPv4-mapped {@code ::ffff:0.0.0.0}, which Java takes for {@code 0.0.0.0}), or
     * {@code 0.0.0.0}, also written with fewer parts or more zeros ({@code 0}, {@code 0.0}), as both
     * Java and the system resolver read them. A name is never the wildcard here, whatever it resolves to.
     */
    static boolean isWildcard(String host) {
        if (host.indexOf(':') < 0) {
            return isIpv4Zero(host);
        }
        int[] groups = ipv6Groups(host);
        if (groups == null) {
            return false;
        }
        for (int i = 0; i < GROUPS - 3; i++) {
            if (groups[i] != 0) {
                return false;
            }
        }
        boolean zeroOrMapped = groups[GROUPS - 3] == 0 || groups[GROUPS - 3] == IPV4_MAPPED_PREFIX;
        return zeroOrMapped && groups[GROUPS - 2] == 0 && groups[GROUPS - 1] == 0;
    }

    /** {@code 0}, {@code 0.0}, {@code 0.0.0} or {@code 0.0.0.0}, each part one or more zeros. */
    private static boolean isIpv4Zero(String host) {
        String[] parts = host.split("\\.", -1);
        if (parts.length > 4) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || !part.chars().allMatch(c -> c == '0')) {
                return false;
            }
        }
        return true;
    }

    /** The eight 16-bit groups of IPv6 literal {@code text} (its scope left out), or null if it is not one. */
    static int[] ipv6Groups(String text) {
        int percent = text.indexOf('%');
        String address = text;
        if (percent >= 0) {
            if (!isScope(text.substring(percent + 1))) {
                return null;
            }
            address = text.substring(0, percent);
        }
        int[] groups = new int[GROUPS];
        int elided = address.indexOf("::");
        if (elided < 0) {
            return parseGroups(address, true, groups, 0) == GROUPS ? groups : null;
        }
        if (address.indexOf("::", elided + 1) >= 0) {
            return null; // "::" only once, or where the zeros go is ambiguous
        }
        int[] tail = new int[GROUPS];
        int before = parseGroups(address.substring(0, elided), false, groups, 0);
        int after = parseGroups(address.substring(elided + 2), true, tail, 0);
        if (before < 0 || after < 0 || before + after > GROUPS - 1) {
            return null;
        }
        System.arraycopy(tail, 0, groups, GROUPS - after, after);
        return groups;
    }

    /**
     * Parses {@code part}, groups separated by single colons, into {@code out} from {@code at}: the
     * number of 16-bit groups written, or -1 if it is not such a part. An empty part has none; the
     * last group may be a dotted IPv4 address (two groups) if {@code ipv4Last}.
     */
    private static int parseGroups(String part, boolean ipv4Last, int[] out, int at) {
        if (part.isEmpty()) {
            return 0;
        }
        String[] pieces = part.split(":", -1);
        int written = 0;
        for (int i = 0; i < pieces.length; i++) {
            String piece = pieces[i];
            if (ipv4Last && i == pieces.length - 1 && piece.indexOf('.') >= 0) {
                long ipv4 = parseIpv4(piece);
                if (ipv4 < 0 || at + written + 2 > GROUPS) {
                    return -1;
                }
                out[at + written++] = (int) (ipv4 >>> 16);
                out[at + written++] = (int) (ipv4 & 0xffff);
                continue;
            }
            if (piece.isEmpty() || piece.length() > 4 || at + written >= GROUPS) {
                return -1;
            }
            int value = 0;
            for (int c = 0; c < piece.length(); c++) {
                int digit = hexDigit(piece.charAt(c));
                if (digit < 0) {
                    return -1;
                }
                value = value << 4 | digit;
            }
            out[at + written++] = value;
        }
        return written;
    }

    /** The 32 bits of dotted-quad {@code text} (four decimal parts of 0..255), or -1 if it is not one. */
    private static long parseIpv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return -1;
        }
        long value = 0;
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return -1;
            }
            int octet = Integer.parseInt(part);
            if (octet > 255) {
                return -1;
            }
            value = value << 8 | octet;
        }
        return value;
    }

    /** The value of ASCII hex digit {@code c}, or -1 ({@link Character#digit} takes other scripts' digits too). */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** A zone of a scoped address: an interface name or index (letters, digits, {@code . _ -}). */
    private static boolean isScope(String scope) {
        return !scope.isEmpty() && scope.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
    }
}
