#!/usr/bin/perl
# The demo's protected handler: answers with what mod_ekey established about the caller.
# It reads the request body (a CGI that leaves it unread can fail the request).
use strict;
my $len = $ENV{CONTENT_LENGTH} || 0;
my $body = '';
while ($len > length $body) { last unless read(STDIN, $body, $len - length $body, length $body) }
my %e = map { $_ => ($ENV{$_} // '') } qw(EKEY_SUB EKEY_TRACE EKEY_CAP EKEY_AUD EKEY_USES_LEFT EKEY_BIND);
print "Content-Type: application/json\r\n\r\n";
print '{"status":"paid",', join(',', map { my $v = $e{$_}; $v =~ s/(["\\])/\\$1/g; "\"\L$_\E\":\"$v\"" } sort keys %e), "}\n";
