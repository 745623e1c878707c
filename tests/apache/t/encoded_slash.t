# An encoded slash in the request path (SECURITY-CASES CAP-05): with AllowEncodedSlashes On
# httpd routes "/slash/a%2Fb" as "/slash/a/b", while a backend behind `ProxyPass ... nocanon`
# gets the one segment "a%2Fb", a resource no capability can name ("%2F" is not a capability
# escape). A token for GET:/slash/a/b is therefore refused for "/slash/a%2Fb" (400
# invalid_request, nothing consumed: the token then serves its own path), with NoDecode too.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
use EKeyCheck;

plan tests => 2 * (2 * ASSERTS_REFUSED + ASSERTS_ALLOWED) + 1;

for my $vh (qw(ekey_slash_on ekey_slash_nodecode)) {
    my $k = client_key();
    my ($t, $c) = token(key => $k, claims => { cap => { action => 'GET:/slash/a/b', limit => 1 } });
    my $url = EKeyTest::base_url($vh);
    for my $spelling ('/slash/a%2Fb', '/slash/a%2fb') {
        my $p = proof($k, 'GET', $url . $spelling, $t, $c->{trace});
        refused("$vh: $spelling for GET:/slash/a/b", sub {
            send_req(method => 'GET', url => $url . $spelling,
                     headers => [['Authorization' => "EKey $t"], ['DPoP' => $p]]) },
            400, 'invalid_request', 'invalid_request');
    }
    my $p = proof($k, 'GET', "$url/slash/a/b", $t, $c->{trace});
    allowed("$vh: the token still serves /slash/a/b (the refusals took no use)", sub {
        send_req(method => 'GET', url => "$url/slash/a/b",
                 headers => [['Authorization' => "EKey $t"], ['DPoP' => $p]]) });
}
no_crashes();
