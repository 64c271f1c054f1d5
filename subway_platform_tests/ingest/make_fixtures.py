"""Writes the small crafted landing files under fixtures/ (run once; the files are committed).

Each file reproduces one way real portal downloads differ (see the data README). The
bytes are spelled out here so that encodings and line endings are exact.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).with_name("fixtures")
HEADER = '"사용일자","노선명","역명",승차총승객수,하차총승객수,"등록일자"'
# pass_in total 34944 + 28640 + 4475 + 1 = 68060; pass_out 32751 + 28862 + 5589 + 0 = 67202
ROWS = [
    ("20190701", "1호선", "종로3가", "34944.0", "32751.0", "20190704"),
    ("20190701", "1호선", "종로5가", "28640.0", "28862.0", "20190704"),
    ("20190701", "경의선", "서울역", "4475.0", "5589.0", "20190704"),
    ("20190701", "경의선", "서울역", "1.0", "0.0", "20190704"),
]


def quoted(row: tuple[str, ...]) -> str:
    return ",".join(f'"{v}"' for v in row)


def plain(row: tuple[str, ...]) -> str:
    return ",".join(v.removesuffix(".0") for v in row)


def write(name: str, text: str, encoding: str = "utf-8") -> None:
    (FIXTURES / name).write_bytes(text.encode(encoding))


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    body = [quoted(r) for r in ROWS]
    write("daily_utf8_quoted_crlf.csv", "\r\n".join([HEADER, *body]) + "\r\n")
    write(
        "daily_utf8_bom_unquoted.csv",
        "\ufeff"
        + "\n".join(
            ["사용일자,노선명,역명,승차총승객수,하차총승객수,등록일자", *(plain(r) for r in ROWS)]
        )
        + "\n",
    )
    write("daily_cp949.csv", "\r\n".join([HEADER, *body]) + "\r\n", "cp949")
    # CRLF, LF and a lone CR in one file, then blank trailing lines.
    write(
        "daily_mixed_eol.csv",
        HEADER
        + "\r\n"
        + body[0]
        + "\n"
        + body[1]
        + "\r"
        + body[2]
        + "\r\n"
        + body[3]
        + "\r\n\r\n\n",
    )
    write(
        "daily_thousands.csv",
        "\n".join(
            [
                HEADER,
                '"20190701","2호선","강남","9,080"," 1,234 ","20190704"',
                '20190701,2호선,역삼,12,"1,000,000",20190704',
            ]
        )
        + "\n",
    )
    write(
        "daily_trailing_field.csv", "\r\n".join([HEADER, *(quoted(r) + "," for r in ROWS)]) + "\r\n"
    )
    write(
        "daily_station_id_and_note.csv",
        "\n".join(
            [
                '"사용일자","노선명","역ID","역명","승차총승객수","하차총승객수","등록일자","비고"',
                '"20190701","1호선","0150","서울역","100","200","20190704","공사 ""중"""',
                '"20190701","1호선","151","시청","300","400","20190704",""',
            ]
        )
        + "\n",
    )
    write(
        "daily_hoseon_header.csv",
        "\n".join(
            [
                '"사용일자","호선명","역명","승차총승객수","하차총승객수","등록일자"',
                *body,
            ]
        )
        + "\n",
    )
    write(
        "daily_blank_middle.csv",
        "\n".join([HEADER, body[0], "", body[1], "", "", body[2], body[3]]) + "\n",
    )
    write(
        "daily_unparseable.csv",
        "\n".join(
            [
                HEADER,
                '"20190701","1호선","종로3가","12.5","10","20190704"',
                '"20190701","1호선","종로5가","","-3","20190704"',
                '"20190701","1호선","동대문","7","8.0","20190704"',
            ]
        )
        + "\n",
    )
    write("empty.csv", "")
    write("header_only.csv", HEADER + "\r\n\r\n")
    write(
        "missing_required.csv",
        "\n".join(
            [
                '"사용일자","노선명","역명","승차총승객수","등록일자"',
                '"20190701","1호선","종로3가","34944.0","20190704"',
            ]
        )
        + "\n",
    )
    write("unknown_layout.csv", "\n".join(['"a","b","c"', '"1","2","3"']) + "\n")
    write(
        "truncated_last_row.csv",
        "\r\n".join([HEADER, *body[:3], '"20190701","경의선","서울']) + "\r\n",
    )
    write(
        "other_month.csv",
        "\n".join([HEADER, *body[:2], quoted(("20190801",) + ROWS[2][1:]), body[3]]) + "\n",
    )
    write(
        "invalid_month.csv",
        "\n".join([HEADER, body[0], quoted(("2019xx01",) + ROWS[1][1:])]) + "\n",
    )
    (FIXTURES / "undecodable.csv").write_bytes(
        HEADER.encode("utf-8") + b'\n"20190701","\xff\xfe","x","1","2","20190704"\n'
    )
    write_hourly()


def hourly_header() -> str:
    hours = [(4 + i) % 24 for i in range(24)]
    pairs = [f"{h:02d}시-{h + 1:02d}시 {kind}" for h in hours for kind in ("승차인원", "하차인원")]
    return ",".join(f'"{name}"' for name in ["사용월", "호선명", "지하철역", *pairs, "작업일자"])


def hourly_row(month: str, line: str, station: str, base: int) -> str:
    # in counts: base + hour index; out counts: 2 * base + hour index
    counts = [str(v) for i in range(24) for v in (base + i, 2 * base + i)]
    return ",".join(f'"{v}"' for v in [month, line, station, *counts, month + "03"])


def write_hourly() -> None:
    """Two months in one CP949 file, as a portal download of several months looks."""
    rows = [
        hourly_row("202209", "1호선", "동대문", 10),
        hourly_row("202209", "2호선", "강남", 20),
        hourly_row("202210", "1호선", "동대문", 30),
        hourly_row("202210", "2호선", "강남", 40),
        hourly_row("202210", "경의선", "서울역", 50),
    ]
    write("hourly_two_months_cp949.csv", "\n".join([hourly_header(), *rows]) + "\n", "cp949")


if __name__ == "__main__":
    main()
