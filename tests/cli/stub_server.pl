#!/usr/bin/perl
# A scripted HTTP server for tests/cli/test_cli.sh: one request per connection on
# 127.0.0.1 (a free port, written to PORTFILE), every request saved as LOGDIR/reqN.txt.
#   POST */token          200, the issuer answer for the token in TOKENFILE (POST:/payments),
#                         or for another action asked for, one minted by MINT ACTION
#   POST /refuse/token    400 {"error":"invalid_request",...}
#   POST /html/token      500 text/html (no JSON error)
#   POST /wrong/token     200, the TOKENFILE token whatever was asked (POST:/payments)
#   /ansi                 401, a JSON message with terminal escapes and a forged line
#   POST /big/token       200, an answer of 300 KB (over the CLI's limit for an issuer)
#   /replayed             401 {"error":"replay_detected",...}
#   /challenge            401 with only a WWW-Authenticate challenge
#   anything else         200 "paid"
# Usage: stub_server.pl PORTFILE LOGDIR TOKENFILE [MINT...]   (exits after 300 s at the latest)
#   MINT: the command that prints a token, given the action as its last argument
use strict;
use warnings;
use IO::Socket::INET;
use JSON::PP;

my ($portfile, $logdir, $tokenfile, @mint) = @ARGV;
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16,
                                ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
open(my $pf, '>', "$portfile.tmp") or die;
print $pf $srv->sockport, "\n";
close $pf;
rename "$portfile.tmp", $portfile or die;
$SIG{ALRM} = sub { exit 0 };
$SIG{PIPE} = 'IGNORE';          # a client that stops reading (an answer over its limit)
alarm 300;

sub answer {
    my ($c, $status, $ctype, $body, @extra) = @_;
    print $c "HTTP/1.1 $status\r\nContent-Type: $ctype\r\nContent-Length: " . length($body)
        . "\r\n" . join('', map { "$_\r\n" } @extra) . "Connection: close\r\n\r\n$body";
}

my $n = 0;
while (my $c = $srv->accept) {
    local $/ = "\r\n";
    my $head = '';
    while (defined(my $line = <$c>)) {
        $head .= $line;
        last if $line eq "\r\n";
    }
    my ($method, $path) = $head =~ m{^(\S+) (\S+)};
    my ($len) = $head =~ /^Content-Length: *(\d+)/mi;
    my $body = '';
    read($c, $body, $len) if $len;
    $n++;
    open(my $log, '>', "$logdir/req$n.txt.tmp") or die;
    print $log $head, $body;
    close $log;
    rename "$logdir/req$n.txt.tmp", "$logdir/req$n.txt";
    $path //= '';
    if ($path =~ m{^/refuse/token}) {
        answer($c, '400 Bad Request', 'application/json',
               qq({"error":"invalid_request","message":"'ttl' must be in 1..300"}\n));
    } elsif ($path =~ m{^/html/token}) {
        answer($c, '500 Internal Server Error', 'text/html', "<h1>oops</h1>\n");
    } elsif ($path =~ m{^/wrong/token}) {
        open(my $tf, '<', $tokenfile) or die;
        my $t = <$tf>;
        close $tf;
        $t =~ s/\s+\z//;
        answer($c, '200 OK', 'application/json', qq({"token":"$t","token_type":"EKey"}\n));
    } elsif ($path =~ m{^/big/token}) {
        answer($c, '200 OK', 'application/json', '{"pad":"' . ('x' x 300000) . qq("}\n));
    } elsif ($path =~ m{^/ansi}) {
        answer($c, '401 Unauthorized', 'application/json',
               qq({"error":"invalid_token\\u001b[2J","message":"x\\u001b]0;pwned\\u0007\\r\\nekey: forged line"}\n));
    } elsif ($path =~ m{/token$}) {
        my $want = eval { decode_json($body)->{cap}{action} } // 'POST:/payments';
        my $t;
        if ($want ne 'POST:/payments' && @mint && $want =~ m{^[A-Z]+:/[\w/.~-]*$}) {
            open(my $mp, '-|', @mint, $want) or die "mint: $!";
            $t = <$mp>;
            close $mp;
        } else {
            open(my $tf, '<', $tokenfile) or die;
            $t = <$tf>;
            close $tf;
        }
        $t =~ s/\s+\z//;
        answer($c, '200 OK', 'application/json', qq({"token":"$t","token_type":"EKey"}\n));
    } elsif ($path =~ m{^/replayed}) {
        answer($c, '401 Unauthorized', 'application/json',
               qq({"error":"replay_detected","message":"the token uses are exhausted"}\n),
               'WWW-Authenticate: EKey realm="x", error="invalid_token", ekey_error="replay_detected"');
    } elsif ($path =~ m{^/challenge}) {
        answer($c, '401 Unauthorized', 'text/html', "<p>no</p>\n",
               'WWW-Authenticate: EKey realm="x", error="invalid_token", ekey_error="token_expired", '
               . 'error_description="the token has expired"');
    } else {
        answer($c, '200 OK', 'text/plain', "paid\n");
    }
    close $c;
}
