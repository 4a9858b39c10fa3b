"""Exports and per-annotation work spread over a Dask cluster (the `dask` extra), one task per image.

    from dask.distributed import Client
    from cytomine_sdk import dask as cytomine_dask

    with Client("tcp://scheduler:8786") as cluster:          # or Client(LocalCluster(...))
        report = cytomine_dask.export_annotations(cluster, api_client, 42, "export/", masks=True)
        report.raise_for_failures()

        def area(api_client, annotation):                     # any picklable function
            return shapely.from_wkt(annotation.location).area
        areas = cytomine_dask.map_annotations(cluster, api_client, 42, area)

Dask schedules, retries lost workers and balances the load; this module only cuts the work by
image (partitions: one task per image, so that an image's annotations are listed in one paged
listing) and gathers what came back into a report like the other batch helpers
(`images.BatchReport`): `results` by key, and `failed` with the reason of every key that did not
succeed (the task raised, its worker died, the image or an annotation failed). Nothing is
dropped silently.

Tasks receive the client's Configuration, never the client itself (connections do not travel):
each task opens its own connections and closes them when done. `export_annotations` writes
exactly the files `cytomine_sdk.export.export_annotations` writes in one process (every task
calls it for its image), so `out` must be a folder every worker sees (a shared file system).

Dask is imported when these functions are called; `import cytomine_sdk.dask` alone needs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cytomine_sdk.configuration import Configuration
from cytomine_sdk.datasets import AnnotationRecord, _Connection, list_annotations
from cytomine_sdk.export import DEFAULT_MASK_MAX_SIZE
from cytomine_sdk.images import BatchReport
from cytomine_sdk.pagination import paginate
from cytomine_sdk.progress import Progress, ProgressCallback
from cytomine_sdk.validation import ids, positive_int

if TYPE_CHECKING:
    from distributed import Client

    from cytomine_sdk.client import ApiClient

__all__ = ["export_annotations", "local_client", "map_annotations"]


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError("cytomine_sdk.dask needs Dask: pip install 'cytomine-sdk[dask]'") from exc
    return distributed


def local_client(workers: int = 2, **options: Any) -> Client:
    """A ``distributed.Client`` of a new LocalCluster of `workers` processes, one thread each
    (closing the client stops the cluster): the cluster of one machine, for trying things out.

    `options` go to ``LocalCluster`` (``memory_limit``, ``dashboard_address``, ...); the
    dashboard is off unless asked for.
    """
    positive_int("workers", workers)
    options = {"threads_per_worker": 1, "dashboard_address": None, **options}
    client: Client = _distributed().Client(n_workers=workers, processes=True, **options)
    return client


def _configuration(api_client: ApiClient | Configuration) -> Configuration:
    return api_client if isinstance(api_client, Configuration) else api_client.configuration


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _project_images(configuration: Configuration, project: int, images: Sequence[int] | None) -> list[int]:
    positive_int("project", project, "a project id")
    if images is not None:
        ids("images", images, "an image instance id")
        return list(images)
    connection = _Connection(configuration)
    try:
        return [i.id for i in paginate(connection.get().image_instance_api.list_by_project, project) if i.id]
    finally:
        connection.close()


def _export_image(configuration: Configuration, project: int, out: str, image: int, options: dict[str, Any]) -> Any:
    from cytomine_sdk.export import export_annotations as export_one

    connection = _Connection(configuration)
    try:
        return export_one(connection.get(), project, out, images=[image], **options).images[0]
    finally:
        connection.close()


def _map_image(
    configuration: Configuration,
    project: int,
    image: int,
    func: Callable[[ApiClient, AnnotationRecord], Any],
    terms: Sequence[int] | None,
    users: Sequence[int] | None,
    page_size: int,
) -> tuple[dict[int, Any], dict[int, str]]:
    connection = _Connection(configuration)
    done: dict[int, Any] = {}
    failed: dict[int, str] = {}
    try:
        api = connection.get()
        for record in list_annotations(api, project, images=[image], terms=terms, users=users, page_size=page_size):
            try:
                done[record.id] = func(api, record)
            except Exception as exc:  # the user's function: whatever it raises fails that annotation only
                failed[record.id] = _reason(exc)
    finally:
        connection.close()
    return done, failed


def _gather(
    cluster: Client, futures: dict[Any, int], progress: bool, on_progress: ProgressCallback | None
) -> list[tuple[int, Any, str | None]]:
    """(image, value, None) or (image, None, reason) of every future, as they complete."""
    distributed = _distributed()
    outcomes: list[tuple[int, Any, str | None]] = []
    with Progress(len(futures), bar=progress, callback=on_progress, unit="image", description="images") as bar:
        for future in distributed.as_completed(list(futures)):
            image = futures[future]
            try:
                outcomes.append((image, future.result(), None))
            except Exception as exc:  # the task raised, or its worker was lost: that image failed
                outcomes.append((image, None, _reason(exc)))
            bar.advance(1)
    return outcomes


def export_annotations(
    cluster: Client,
    api_client: ApiClient | Configuration,
    project: int,
    out: str | os.PathLike[str],
    *,
    images: Sequence[int] | None = None,
    terms: Sequence[int] | None = None,
    users: Sequence[int] | None = None,
    masks: bool = False,
    mask_max_size: int = DEFAULT_MASK_MAX_SIZE,
    page_size: int = 1000,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> BatchReport:
    """`export.export_annotations` over a Dask cluster, one task per image (see the module documentation).

    `cluster` is a ``distributed.Client``. The report's `results` are the `export.ImageExport` of
    each image, by image id; `failed` the reason of each image that was not exported. Progress
    counts images.
    """
    _distributed()  # before any request: a missing extra is the first thing to know
    configuration = _configuration(api_client)
    positive_int("mask_max_size", mask_max_size, "a positive number of pixels")
    for name, selection in (("terms", terms), ("users", users)):
        if selection is not None:
            ids(name, selection)
    image_ids = _project_images(configuration, project, images)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    options = {"terms": terms, "users": users, "masks": masks, "mask_max_size": mask_max_size, "page_size": page_size}
    futures = {
        cluster.submit(_export_image, configuration, project, str(folder), image, options, pure=False): image
        for image in image_ids
    }
    report = BatchReport()
    for image, value, reason in sorted(_gather(cluster, futures, progress, on_progress), key=lambda o: o[0]):
        if reason is None:
            report.results[image] = value
        else:
            report.failed[image] = reason
    return report


def map_annotations(
    cluster: Client,
    api_client: ApiClient | Configuration,
    project: int,
    func: Callable[[ApiClient, AnnotationRecord], Any],
    *,
    images: Sequence[int] | None = None,
    terms: Sequence[int] | None = None,
    users: Sequence[int] | None = None,
    page_size: int = 1000,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> BatchReport:
    """`func(api_client, annotation)` on every annotation of `project` matching the filters, over a
    Dask cluster: one task per image lists that image's annotations and calls `func` on each.

    `cluster` is a ``distributed.Client``; `func` must be picklable (a module-level function) and
    return something picklable. The report's `results` hold what `func` returned, by annotation
    id; `failed` the reason of each annotation `func` raised on, and ``("image", id)`` for an
    image whose task failed as a whole (its annotations could not be listed, or its worker died).
    Progress counts images.
    """
    _distributed()
    configuration = _configuration(api_client)
    for name, selection in (("terms", terms), ("users", users)):
        if selection is not None:
            ids(name, selection)
    positive_int("page_size", page_size)
    image_ids = _project_images(configuration, project, images)
    futures = {
        cluster.submit(_map_image, configuration, project, image, func, terms, users, page_size, pure=False): image
        for image in image_ids
    }
    report = BatchReport()
    for image, value, reason in sorted(_gather(cluster, futures, progress, on_progress), key=lambda o: o[0]):
        if reason is not None:
            key: Hashable = ("image", image)
            report.failed[key] = reason
            continue
        done, failed = value
        report.results.update(done)
        report.failed.update(failed)
    return report
