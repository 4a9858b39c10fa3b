"""Push a model's predictions to Cytomine as annotations, with terms and properties.

The predictions are a GeoJSON FeatureCollection (what most segmentation and detection pipelines
can write). Each feature's geometry becomes an annotation; its `term` property (a term name or
id of the project's ontology) becomes the annotation's term; every other property (`score`,
...) becomes a key/value property of the annotation, with `model` set to --model:

    {"type": "FeatureCollection", "features": [
      {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [80, 0], [80, 60], [0, 0]]]},
       "properties": {"term": "Tumour", "score": 0.93, "image": 200}}]}

    python examples/push_predictions.py --project 100 predictions.geojson --model unet-v3 --min-score 0.5

Coordinates are Cytomine's (full-resolution pixels, origin bottom-left, y up); give
--origin top-left for pixel coordinates of an array or PIL image (row 0 at the top). The image
of each feature is its `image` property, or --image for all.

Annotations are created in bulk (chunks sent in parallel), with a report of every item. Exit
status 0 when every annotation was created; 1 otherwise, with the reasons, and the refused
features written to --failed (to fix and send again).
The connection comes from the environment, a profile or the options below (see --help).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cytomine_sdk import ApiClient, Configuration, CytomineError
from cytomine_sdk.arguments import add_arguments
from cytomine_sdk.bulk import NewAnnotation, create_annotations


def flip_y(coordinates: Any, height: int) -> Any:
    """GeoJSON coordinates with y measured from the other edge of an image `height` pixels high."""
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [coordinates[0], height - coordinates[1], *coordinates[2:]]
    return [flip_y(part, height) for part in coordinates]


def score(feature: dict[str, Any]) -> float:
    properties: dict[str, Any] = feature.get("properties") or {}
    return float(properties.get("score", 1))


def to_annotations(
    api_client: ApiClient, features: list[tuple[int, dict[str, Any]]], args: argparse.Namespace
) -> list[NewAnnotation]:
    """One annotation to create per (position, feature); raises ValueError naming a feature that cannot be one."""
    terms = {t.name: t.id for t in api_client.term_api.list_by_project(args.project) if t.name and t.id is not None}
    term_ids = set(terms.values())
    heights: dict[int, int] = {}
    annotations: list[NewAnnotation] = []
    for n, feature in features:
        properties: dict[str, Any] = dict(feature.get("properties") or {})
        image = properties.pop("image", None) or args.image
        label = properties.pop("term", None)
        if not isinstance(image, int):
            raise ValueError(f"feature {n}: no image (give it an 'image' property, or use --image)")
        term = label if isinstance(label, int) and label in term_ids else terms.get(str(label))
        if label is not None and term is None:
            raise ValueError(f"feature {n}: {label!r} is not a term of project {args.project}: {sorted(terms)}")
        geometry: dict[str, Any] | None = feature.get("geometry")
        if not geometry:
            raise ValueError(f"feature {n}: no geometry")
        if args.origin == "top-left":
            if image not in heights:
                heights[image] = api_client.image_instance_api.retrieve(image).height or 0
            geometry = {**geometry, "coordinates": flip_y(geometry["coordinates"], heights[image])}
        properties["model"] = args.model
        annotations.append(NewAnnotation(
            geometry,
            image=image,
            terms=[term] if term is not None else [],
            properties={key: str(value) for key, value in properties.items()},
        ))
    return annotations


def push(api_client: ApiClient, args: argparse.Namespace) -> int:
    collection: dict[str, Any] | list[Any] = json.loads(Path(args.predictions).read_text(encoding="utf-8"))
    if isinstance(collection, list) or collection.get("type") != "FeatureCollection":
        raise ValueError(f"{args.predictions}: not a GeoJSON FeatureCollection")
    predictions: list[dict[str, Any]] = collection.get("features", [])
    features = [  # (position in the file, feature)
        (n, f) for n, f in enumerate(predictions) if score(f) >= args.min_score
    ]
    print(f"{len(features)} of {len(predictions)} predictions have a score >= {args.min_score}")
    annotations = to_annotations(api_client, features, args)
    report = create_annotations(
        api_client, annotations, progress=sys.stderr.isatty() and importlib.util.find_spec("tqdm") is not None
    )
    print(f"{len(report.created)} annotation(s) created in project {args.project}")
    if report.ok:
        return 0
    for failed in report.failed:
        print(f"  feature {features[failed.index][0]} refused: {failed.reason}", file=sys.stderr)
    if report.failed:
        refused = [features[f.index][1] for f in report.failed]
        Path(args.failed).write_text(json.dumps({"type": "FeatureCollection", "features": refused}), encoding="utf-8")
        print(f"{len(refused)} refused prediction(s) written to {args.failed}", file=sys.stderr)
    if report.unknown:
        # Their request went out but the answer was lost: they may exist. Do not send them blindly
        # again; compare with `annotation_api.list(image=..., user=me, show_wkt=True)` first.
        print(f"{len(report.unknown)} prediction(s) of unknown outcome (e.g. {report.unknown[0].reason}): "
              "check what exists before sending them again", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = add_arguments(argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    parser.add_argument("predictions", help="GeoJSON FeatureCollection file")
    parser.add_argument("--project", type=int, required=True, help="project id (its ontology gives the terms)")
    parser.add_argument("--image", type=int, help="image instance id of features without an 'image' property")
    parser.add_argument("--model", default="model", help="value of the 'model' property of every annotation")
    parser.add_argument("--min-score", type=float, default=0.0, help="skip predictions with a lower 'score'")
    parser.add_argument("--origin", choices=["bottom-left", "top-left"], default="bottom-left",
                        help="where y = 0 is in the predictions (default: Cytomine's bottom-left)")
    parser.add_argument("--failed", default="failed-predictions.geojson",
                        help="where to write the refused predictions (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        with ApiClient(Configuration.from_args(args)) as api_client:
            return push(api_client, args)
    except (CytomineError, ValueError, OSError) as exc:
        print(f"push_predictions: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
