#!/usr/bin/perl
# The protected backend: counts its hits (tests assert it was or was not reached) and
# echoes what mod_ekey handed it.
use strict;
my $dir = $ENV{SCRIPT_FILENAME}; $dir =~ s{/cgi/[^/]*$}{};
open(my $fh, '>>', "$dir/logs/hits") or die; print $fh "hit\n"; close $fh;
my @keys = grep { /^(EKEY_|REMOTE_USER|AUTH_TYPE|HTTP_EKEY)/ } sort keys %ENV;
print "Content-Type: application/json\r\n\r\n{";
print join(',', map { my $v = $ENV{$_}; $v =~ s/(["\\])/\\$1/g; "\"$_\":\"$v\"" } @keys);
print "}\n";
