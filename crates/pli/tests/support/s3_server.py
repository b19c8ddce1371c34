"""A local S3-compatible server for pli's tests: moto in server mode (PyPI `moto[server]`),
which speaks the real S3 protocol over HTTP. It binds 127.0.0.1 on a port the OS picks,
creates the bucket named on the command line, prints the port on its first line, and runs
until its standard input closes (the test that started it ended)."""

import logging
import sys

import boto3
from moto.server import ThreadedMotoServer


def main() -> None:
    bucket = sys.argv[1]
    # Quiet: the test's output is not the place for every request the server answers.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=bucket)
    print(port, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
