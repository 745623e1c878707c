#!/usr/bin/perl
# The protected backend: counts its hits (tests assert it was or was not reached) and
# echoes what mod_ekey handed it. It reads the request body first: a CGI that exits without
# reading it makes mod_cgid fail the request (broken pipe) under the event MPM.
use strict;
binmode STDIN;
my $len = $ENV{CONTENT_LENGTH} || 0;
my $body = '';
while ($len > length $body) { last unless read(STDIN, $body, $len - length $body, length $body) }
# the suite's logs/hits, next to t/cgi/; BACKEND_HITS where the script is linked elsewhere
my $dir = $ENV{SCRIPT_FILENAME}; $dir =~ s{/cgi/[^/]*$}{};
open(my $fh, '>>', $ENV{BACKEND_HITS} || "$dir/logs/hits") or die; print $fh "hit\n"; close $fh;
my @keys = grep { /^(EKEY_|REMOTE_USER|AUTH_TYPE|HTTP_)/ } sort keys %ENV;
# a backend that calls its answers cacheable (SetEnv BACKEND_CACHE_CONTROL)
print "Cache-Control: $ENV{BACKEND_CACHE_CONTROL}\r\n" if $ENV{BACKEND_CACHE_CONTROL};
print "Content-Type: application/json\r\n\r\n{";
print join(',', map { my $v = $ENV{$_}; $v =~ s/(["\\])/\\$1/g; $v =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord $1)/ge; "\"$_\":\"$v\"" } @keys);
print "}\n";
