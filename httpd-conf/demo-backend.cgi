#!/usr/bin/perl
# The demo's protected handler: answers with what mod_ekey established about the caller.
use strict;
my %e = map { $_ => ($ENV{$_} // '') } qw(EKEY_SUB EKEY_TRACE EKEY_CAP EKEY_AUD EKEY_USES_LEFT EKEY_BIND);
print "Content-Type: application/json\r\n\r\n";
print '{"status":"paid",', join(',', map { my $v = $e{$_}; $v =~ s/(["\\])/\\$1/g; "\"\L$_\E\":\"$v\"" } sort keys %e), "}\n";
