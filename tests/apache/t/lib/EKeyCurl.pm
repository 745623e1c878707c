package EKeyCurl;
# Requests through curl, for what LWP cannot speak: HTTP/2 over TLS (ALPN) and h2c with prior
# knowledge (curl is built with nghttp2 on Debian 12). Answers are HTTP::Response objects,
# so EKeyCheck's refused() / allowed() judge them as any other.
use strict;
use warnings;
use Exporter 'import';
use Carp qw(croak);
use File::Temp qw(tempdir);
use HTTP::Response ();
use EKeyTest qw(keys_dir base_url tls_url);
our @EXPORT = qw(curl_request);

sub slurp { my ($f) = @_; open(my $fh, '<', $f) or return ''; local $/; return <$fh> // '' }

# curl_request(proto => 'h2' (TLS, ALPN) | 'h2c' (cleartext, prior knowledge) | 'http1.1',
# tls => 1 (for http1.1 over TLS), vhost => NAME, method =>, path =>, headers => [[name,
# value], ...] (each its own field, repeats kept; '' sends an empty value), body =>,
# cert => NAME (client certificate from keys/), url => absolute URL).
# ->protocol is the negotiated 'HTTP/2' or 'HTTP/1.1'; code 0 when no answer came.
sub curl_request {
    my (%o) = @_;
    my $k = keys_dir();
    my $tls = $o{proto} eq 'h2' || $o{tls};
    my $url = $o{url} // (($tls ? tls_url($o{vhost}) : base_url($o{vhost})) . ($o{path} // '/payments'));
    my $method = $o{method} || 'POST';
    my $dir = tempdir('ekey-curl-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my @cmd = ('curl', '-sS', '--max-time', '30', '-o', "$dir/body", '-D', "$dir/head",
               '-X', $method,
               $o{proto} eq 'h2c' ? '--http2-prior-knowledge'
               : $o{proto} eq 'h2' || $o{proto} eq 'h2c-upgrade' ? '--http2' : '--http1.1');
    push @cmd, '--cacert', "$k/ca.crt" if $tls;
    push @cmd, '--cert', "$k/$o{cert}.crt", '--key', "$k/$o{cert}.key" if $o{cert};
    # "Name;" is curl's way to send a field with an empty value
    push @cmd, '-H', ($_->[1] eq '' ? "$_->[0];" : "$_->[0]: $_->[1]") for @{ $o{headers} || [] };
    my $body = exists $o{body} ? $o{body} : ($method eq 'POST' ? '{"amount":1000}' : undef);
    if (defined $body) {
        open(my $fh, '>', "$dir/req") or croak "curl_request: $!";
        print $fh $body;
        close $fh;
        push @cmd, '--data-binary', "\@$dir/req", '-H', 'Content-Type: application/json';
    }
    # curl is not ours: under the sanitizer run (tests/apache/sanitize.inc.sh) it runs
    # without the preloaded ASan runtime, with which it can deadlock in a futex
    local $ENV{LD_PRELOAD};
    delete $ENV{LD_PRELOAD};
    system(@cmd, $url) != -1 or croak "curl_request: cannot run curl: $!";
    my $res = HTTP::Response->new(0);
    # the last header block (after any 100 Continue)
    my @blocks = grep { /\S/ } split /\r?\n\r?\n/, slurp("$dir/head");
    if (@blocks && $blocks[-1] =~ m{^HTTP/(\S+) (\d{3})}) {
        $res->code($2);
        $res->protocol("HTTP/$1");
        for (split /\r?\n/, $blocks[-1]) {
            $res->push_header($1, $2) if /^([^:\s]+):\s*(.*)$/;
        }
    }
    $res->content(slurp("$dir/body"));
    return $res;
}

1;
