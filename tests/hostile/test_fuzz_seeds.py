"""The fuzzer starts from a valid file of every format the sniffer knows, and from real files."""

from __future__ import annotations

from fuzz.seeds import MAX_LEN, seeds
from images_server.errors import ImagesError
from images_server.formats import sniff as sniffing
from images_server.formats.sniff import sniff


def test_every_known_format_has_a_valid_seed() -> None:
    known = {name for name, _, _ in sniffing._FORMATS}
    seeded = set()
    for name, data in seeds().items():
        assert len(data) <= MAX_LEN, name
        try:
            seeded.add(sniff(data).format)
        except ImagesError:
            continue
    assert known <= seeded, f"no valid seed of {sorted(known - seeded)}"


def test_the_real_sample_files_of_other_formats_are_seeds() -> None:
    names = set(seeds())
    assert "sample-tiff-hopper" in names
    assert "sample-tiff-hostile-libtiff_segfault" in names
