# The real `ekey` CLI binary drives the whole flow against the suite's issuer and resource
# server (issue 6): keygen, call (mints, 200), a second call (a new token, 200), replays
# refused with the server's replay_detected shown, and failures (issuer down, bad URL, a
# capability the issuer refuses, server down) each one line on stderr and the documented
# exit code (ekey(1): 0 ok, 1 usage/local, 2 issuer, 3 server refused, 4 server unreachable).
#
# The binary comes from the build directory: tests/apache/run.sh exports EKEY_CLI (the path
# of BUILD_DIR/src/cli/ekey). Without it this file fails: the CLI is part of the product.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Temp qw(tempdir);
use JSON::PP ();
use EKeyTest;

my $cli = $ENV{EKEY_CLI} // '';
die "cli.t: EKEY_CLI is not set: tests/apache/run.sh must export EKEY_CLI=BUILD_DIR/src/cli/ekey\n"
    if $cli eq '';
die "cli.t: EKEY_CLI=$cli is not an executable file (build the CLI: libcurl4-openssl-dev)\n"
    unless -f $cli && -x _;
my $dead = $ENV{EKEY_DEAD_PORT} or die "cli.t: EKEY_DEAD_PORT is not set (run.sh sets it)\n";

plan tests => 44;

my $tmp = tempdir('ekey-cli-XXXXXX', TMPDIR => 1, CLEANUP => 1);
# A new user: nothing but a home directory; no EKEY_* settings from the caller.
local $ENV{HOME} = $tmp;
local $ENV{XDG_CONFIG_HOME} = "$tmp/config";
local $ENV{XDG_CACHE_HOME} = "$tmp/cache";
local $ENV{EKEY_SUB} = 'agent-123';
delete local $ENV{$_} for qw(EKEY_ISSUER EKEY_KEY EKEY_AUD EKEY_ISSUER_PASSWORD);

sub slurp { my ($f) = @_; open(my $fh, '<', $f) or return ''; local $/; my $s = <$fh>; return $s // '' }

# (exit code, stdout, stderr) of one CLI run, stdin closed.
sub ekey {
    my @args = @_;
    my ($o, $e) = ("$tmp/stdout", "$tmp/stderr");
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open(STDIN, '<', '/dev/null'); open(STDOUT, '>', $o); open(STDERR, '>', $e);
        exec($cli, @args) or exit 127;
    }
    waitpid($pid, 0);
    return ($? >> 8, slurp($o), slurp($e));
}
sub lines { scalar(() = $_[0] =~ /\n/g) }
sub json { my $d = eval { JSON::PP->new->decode($_[0]) }; ref $d eq 'HASH' ? $d : {} }

my $base = base_url();
my $url = "$base/payments";
my @pay = ('-X', 'POST', $url, '-d', '{"amount":1000}');

# --help on every subcommand answers 0 on stdout.
for my $c (qw(keygen token proof call inspect)) {
    my ($rc, $out) = ekey($c, '--help');
    ok t_cmp("$rc " . ($out =~ /^Usage: ekey $c/ ? 'usage' : $out), '0 usage', "ekey $c --help");
}

# keygen: a 0600 key file under $XDG_CONFIG_HOME/ekey, the public JWK and jkt printed.
my ($rc, $out, $err) = ekey('keygen');
ok t_cmp($rc, 0, 'keygen exits 0');
my $kg = json($out);
my $keyfile = "$tmp/config/ekey/key.pem";
ok t_cmp($kg->{key} // '', $keyfile, 'keygen: the key is kept per user under XDG_CONFIG_HOME');
ok t_cmp(sprintf('%o', (stat $keyfile)[2] & 07777), '600', 'keygen: key file mode 0600');
ok t_cmp(length($kg->{jkt} // ''), 43, 'keygen: prints the 43-character jkt');
ok t_cmp(jkt($kg->{jwk} || {}) eq ($kg->{jkt} // '') && !exists $kg->{jwk}{d} ? 'public' : 'bad',
         'public', 'keygen: the printed JWK is public and its thumbprint is the jkt');

# call: mints a token for POST:/payments bound to that key, the backend answers 200.
my $hits = hits();
($rc, $out, $err) = ekey('call', @pay);
my $first = json($out);
ok t_cmp("$rc $err", '0 ', 'call: exits 0, nothing on stderr');
ok t_cmp($first->{EKEY_SUB} // '', 'agent-123', 'call: the backend ran with the E-Key subject');
ok t_cmp($first->{EKEY_CAP} // '', 'POST:/payments', 'call: the token names the capability');
ok t_cmp($first->{EKEY_BIND} // '', 'DPoP', 'call: DPoP-bound');
ok t_cmp(hits() - $hits, 1, 'call: one backend hit');

# A second identical call: the single-use token is spent, a new one is minted automatically.
($rc, $out, $err) = ekey('call', @pay);
my $second = json($out);
ok t_cmp($rc, 0, 'second call: exits 0');
ok t_cmp(length($second->{EKEY_TRACE} // '') == 22
         && ($second->{EKEY_TRACE} // '') ne ($first->{EKEY_TRACE} // '') ? 'new' : 'same',
         'new', 'second call: a new token (another trace)');
ok t_cmp(hits() - $hits, 2, 'second call: one more backend hit');

# --replay sends the spent token again (fresh proof): refused with the server's code.
($rc, $out, $err) = ekey('call', '--replay', @pay);
ok t_cmp($rc, 3, 'replay: exit 3 (server refused)');
ok t_cmp($err, qr/^ekey: .*replay_detected/, 'replay: the server\'s replay_detected is shown');
ok t_cmp(lines($err), 1, 'replay: one line on stderr');
ok t_cmp($out, '', 'replay: nothing on stdout');
ok t_cmp(hits() - $hits, 2, 'replay: the backend was not reached');

# ekey token + ekey proof (the scripting path): one token, two proofs; the first request
# passes, the second with the same token is a replay, and so is ekey call --token with it.
($rc, $out, $err) = ekey('token', '--action', 'POST:/payments', '--issuer', "$base/token");
my $ans = json($out);
ok t_cmp($rc, 0, 'token: exits 0');
ok t_cmp($ans->{cnf}{jkt} // '', $kg->{jkt}, 'token: bound to the keygen key');
open(my $tf, '>', "$tmp/answer.json") or die; print $tf $out; close $tf;
my @proofs;
for (1 .. 2) {
    ($rc, $out, $err) = ekey('proof', '-X', 'POST', '--url', $url, '--token', "$tmp/answer.json");
    chomp $out;
    push @proofs, $out;
    ok t_cmp($rc . ' ' . ($out =~ /^[\w-]+\.[\w-]+\.[\w-]+$/ ? 'jws' : $out), '0 jws', "proof $_: one JWS");
}
ok t_cmp($proofs[0] ne $proofs[1] ? 'fresh' : 'same', 'fresh', 'proof: every proof is fresh (jti)');
my $send = sub {
    send_req(url => $url, headers => [['Authorization' => "EKey $ans->{token}"], ['DPoP' => $_[0]]]);
};
my $r = $send->($proofs[0]);
ok t_cmp($r->code, 200, 'token + proof: first request accepted');
$r = $send->($proofs[1]);
ok t_cmp($r->code . ' ' . (body_json($r)->{error} // ''), '401 replay_detected',
         'same token again (second proof): replay_detected');
($rc, $out, $err) = ekey('call', '--token', "$tmp/answer.json", @pay);
ok t_cmp("$rc " . lines($err), '3 1', 'call --token with the spent token: exit 3, one line');
ok t_cmp($err, qr/replay_detected/, 'call --token: replay_detected shown');
# a token goes only with the binding it names, never as a bare bearer token
{
    my $h = hits();
    ($rc, $out, $err) = ekey('call', '--no-cache', '--bind', 'mTLS', '--cert', keys_dir() . '/client.crt',
                             '--cert-key', keys_dir() . '/client.key', '--token', "$tmp/answer.json", @pay);
    ok t_cmp("$rc " . ($err =~ /DPoP-bound/ ? 'says why' : $err), '1 says why',
             'call --bind mTLS with a DPoP-bound --token: refused before sending');
    my ($tm) = token(cert => x5t('client'));
    open(my $mf, '>', "$tmp/mtls.txt") or die; print $mf $tm; close $mf;
    ($rc, $out, $err) = ekey('call', '--no-cache', '--token', "$tmp/mtls.txt", @pay);
    ok t_cmp("$rc " . ($err =~ /--cert/ ? 'says why' : $err), '1 says why',
             'call with an mTLS-bound --token and no --cert: refused before sending');
    ok t_cmp(hits(), $h, 'neither request reached the backend');
}

# Every failure: one clear line on stderr, a documented non-zero exit code.
($rc, $out, $err) = ekey('call', '--no-cache', '--issuer', "http://127.0.0.1:$dead/token", @pay);
ok t_cmp($rc, 2, 'issuer down: exit 2');
ok t_cmp($err, qr/^ekey: issuer unreachable: http:\/\/127\.0\.0\.1:$dead\/token: /,
         'issuer down: says the issuer is unreachable');
ok t_cmp(lines($err) . ' ' . ($out eq '' ? 'no output' : $out), '1 no output',
         'issuer down: one line, nothing on stdout');

($rc, $out, $err) = ekey('token', '--action', 'POST:/payments', '--issuer',
                         "http://127.0.0.1:$dead/token");
ok t_cmp("$rc " . lines($err), '2 1', 'token, issuer down: exit 2, one line');

# A capability the issuer's policy does not allow: the issuer's refusal, exit 2.
($rc, $out, $err) = ekey('call', '--no-cache', '-X', 'DELETE', $url);
ok t_cmp("$rc " . lines($err), '2 1', 'refused by the issuer: exit 2, one line');
ok t_cmp($err, qr/^ekey: issuer refused: .*access_denied/,
         'refused by the issuer: its error code is shown');

# A bad URL: a usage error before anything is sent.
($rc, $out, $err) = ekey('call', 'ftp://localhost/payments');
ok t_cmp("$rc " . lines($err), '1 1', 'bad URL: exit 1, one line');

# The resource server down (the issuer up): exit 4, one line.
($rc, $out, $err) = ekey('call', '--no-cache', '--issuer', "$base/token", '-X', 'POST',
                         "http://127.0.0.1:$dead/payments", '-d', '{}');
ok t_cmp("$rc " . lines($err), '4 1', 'server down: exit 4, one line');
ok t_cmp($err, qr/^ekey: cannot reach http:\/\/127\.0\.0\.1:$dead\/payments/, 'server down: says so');
