"""Quick start: who am I, and which projects can I see?

Reads the server and keys from CYTOMINE_HOST, CYTOMINE_PUBLIC_KEY and CYTOMINE_PRIVATE_KEY
(or CYTOMINE_TOKEN). `make demo` runs it against a local stub server when none is configured.
"""

from cytomine_sdk import ApiClient, Configuration


def main() -> None:
    config = Configuration.from_env()
    with ApiClient(config) as api_client:
        me = api_client.user_api.retrieve_current()
        print(f"Signed in as {me.username} (user {me.id}), signing scheme {api_client.generation}")
        projects = api_client.project_api.list()  # the whole list, fetched a page at a time
        print(f"{len(projects)} project(s):")
        for project in projects:
            print(f"  {project.id:>6}  {project.name}  (ontology {project.ontology})")
        first_id = projects[0].id if len(projects) else None
        if first_id is not None:
            first = api_client.project_api.retrieve(first_id)
            print(f"First project: {first.name!r}, {first.number_of_images or 0} image(s)")


if __name__ == "__main__":
    main()
