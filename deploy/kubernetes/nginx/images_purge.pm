# PURGE /_purge/image/<hash> on NGINX's purge server: delete every cache file of that image.
#
# NGINX writes each cache entry to one file whose header holds a line "KEY: <cache key>";
# nginx.conf keys /image/<hash>... entries by their request URI, so an image's entries are the
# files whose key starts with "/image/<hash>" followed by "/", "?" or "|". NGINX treats a
# deleted file as a miss. The walk costs time in proportion to the cache's file count and
# blocks this worker meanwhile, which is why it runs only on the internal purge server.
# Replies {"purged": N} (200), the number of files deleted.
package images_purge;

use strict;
use warnings;

use nginx;
use File::Find ();

my $HEAD_BYTES = 16384;    # the binary header, the KEY line (URIs are at most 8k) and more

sub handler {
    my $r = shift;
    my ($prefix) = $r->uri =~ m{^/_purge(/image/[0-9a-f]{64})$};
    return 404 unless defined $prefix;
    my $dir = $r->variable('images_cache_dir');
    my $purged = 0;
    my $wanted = sub {
        my $path = $File::Find::name;
        return if $path =~ m{\.[^/]*$} || !-f $path;    # NGINX's temp files have a suffix
        open(my $fh, '<:raw', $path) or return;
        my $read = read($fh, my $head, $HEAD_BYTES);
        close($fh);
        return unless $read;
        $purged++ if $head =~ /\nKEY: \Q$prefix\E[\/?|]/ && unlink($path);
    };
    File::Find::find({ wanted => $wanted, no_chdir => 1 }, $dir) if -d $dir;
    $r->send_http_header('application/json');
    $r->print(qq({"purged":$purged}\n));
    return OK;
}

1;
