# flake8: noqa

__all__ = [
    "AbstractImageApi",
    "AbstractSliceApi",
    "AdminSessionApi",
    "AlgoAnnotationApi",
    "AnnotationApi",
    "AnnotationActionApi",
    "AnnotationCommentApi",
    "AnnotationGroupApi",
    "AnnotationIndexApi",
    "AnnotationLayerApi",
    "AnnotationLinkApi",
    "AnnotationTermApi",
    "AnnotationTrackApi",
    "AppEngineStoreApi",
    "AppEngineTaskApi",
    "AppEngineTaskRunApi",
    "AttachedFileApi",
    "CompanionFileApi",
    "ConfigurationApi",
    "CustomUiApi",
    "DescriptionApi",
    "ImageConsultationApi",
    "ImageFilterApi",
    "ImageGroupApi",
    "ImageGroupMemberApi",
    "ImageInstanceApi",
    "ImageServerApi",
    "JobApi",
    "JobDataApi",
    "JobParameterApi",
    "JobTemplateApi",
    "JobTemplateAnnotationApi",
    "MetadataSearchApi",
    "NestedImageInstanceApi",
    "OntologyApi",
    "ParameterConstraintApi",
    "ProcessingServerApi",
    "ProjectApi",
    "ProjectCommandApi",
    "ProjectConnectionApi",
    "ProjectDefaultLayerApi",
    "ProjectImageFilterApi",
    "ProjectMemberApi",
    "ProjectRepresentativeApi",
    "ProjectSoftwareApi",
    "PropertyApi",
    "RelationApi",
    "RelationTermApi",
    "RetrievalApi",
    "ReviewedAnnotationApi",
    "RoiAnnotationApi",
    "RoleApi",
    "ServerApi",
    "SliceInstanceApi",
    "SoftwareApi",
    "SoftwareParameterApi",
    "SoftwareParameterConstraintApi",
    "StatisticsApi",
    "StorageApi",
    "StorageMemberApi",
    "TagApi",
    "TagAssociationApi",
    "TaskApi",
    "TermApi",
    "TrackApi",
    "TrustedSourceApi",
    "UploadApi",
    "UploadedFileApi",
    "UserApi",
    "UserAclApi",
    "UserAnnotationApi",
    "UserJobApi",
    "UserKeyApi",
    "UserPositionApi",
    "UserRoleApi",
]

import typing as _typing

if _typing.TYPE_CHECKING:
    # import apis into api package
    from cytomine_sdk_gen.api.abstract_image_api import AbstractImageApi
    from cytomine_sdk_gen.api.abstract_slice_api import AbstractSliceApi
    from cytomine_sdk_gen.api.admin_session_api import AdminSessionApi
    from cytomine_sdk_gen.api.algo_annotation_api import AlgoAnnotationApi
    from cytomine_sdk_gen.api.annotation_api import AnnotationApi
    from cytomine_sdk_gen.api.annotation_action_api import AnnotationActionApi
    from cytomine_sdk_gen.api.annotation_comment_api import AnnotationCommentApi
    from cytomine_sdk_gen.api.annotation_group_api import AnnotationGroupApi
    from cytomine_sdk_gen.api.annotation_index_api import AnnotationIndexApi
    from cytomine_sdk_gen.api.annotation_layer_api import AnnotationLayerApi
    from cytomine_sdk_gen.api.annotation_link_api import AnnotationLinkApi
    from cytomine_sdk_gen.api.annotation_term_api import AnnotationTermApi
    from cytomine_sdk_gen.api.annotation_track_api import AnnotationTrackApi
    from cytomine_sdk_gen.api.app_engine_store_api import AppEngineStoreApi
    from cytomine_sdk_gen.api.app_engine_task_api import AppEngineTaskApi
    from cytomine_sdk_gen.api.app_engine_task_run_api import AppEngineTaskRunApi
    from cytomine_sdk_gen.api.attached_file_api import AttachedFileApi
    from cytomine_sdk_gen.api.companion_file_api import CompanionFileApi
    from cytomine_sdk_gen.api.configuration_api import ConfigurationApi
    from cytomine_sdk_gen.api.custom_ui_api import CustomUiApi
    from cytomine_sdk_gen.api.description_api import DescriptionApi
    from cytomine_sdk_gen.api.image_consultation_api import ImageConsultationApi
    from cytomine_sdk_gen.api.image_filter_api import ImageFilterApi
    from cytomine_sdk_gen.api.image_group_api import ImageGroupApi
    from cytomine_sdk_gen.api.image_group_member_api import ImageGroupMemberApi
    from cytomine_sdk_gen.api.image_instance_api import ImageInstanceApi
    from cytomine_sdk_gen.api.image_server_api import ImageServerApi
    from cytomine_sdk_gen.api.job_api import JobApi
    from cytomine_sdk_gen.api.job_data_api import JobDataApi
    from cytomine_sdk_gen.api.job_parameter_api import JobParameterApi
    from cytomine_sdk_gen.api.job_template_api import JobTemplateApi
    from cytomine_sdk_gen.api.job_template_annotation_api import JobTemplateAnnotationApi
    from cytomine_sdk_gen.api.metadata_search_api import MetadataSearchApi
    from cytomine_sdk_gen.api.nested_image_instance_api import NestedImageInstanceApi
    from cytomine_sdk_gen.api.ontology_api import OntologyApi
    from cytomine_sdk_gen.api.parameter_constraint_api import ParameterConstraintApi
    from cytomine_sdk_gen.api.processing_server_api import ProcessingServerApi
    from cytomine_sdk_gen.api.project_api import ProjectApi
    from cytomine_sdk_gen.api.project_command_api import ProjectCommandApi
    from cytomine_sdk_gen.api.project_connection_api import ProjectConnectionApi
    from cytomine_sdk_gen.api.project_default_layer_api import ProjectDefaultLayerApi
    from cytomine_sdk_gen.api.project_image_filter_api import ProjectImageFilterApi
    from cytomine_sdk_gen.api.project_member_api import ProjectMemberApi
    from cytomine_sdk_gen.api.project_representative_api import ProjectRepresentativeApi
    from cytomine_sdk_gen.api.project_software_api import ProjectSoftwareApi
    from cytomine_sdk_gen.api.property_api import PropertyApi
    from cytomine_sdk_gen.api.relation_api import RelationApi
    from cytomine_sdk_gen.api.relation_term_api import RelationTermApi
    from cytomine_sdk_gen.api.retrieval_api import RetrievalApi
    from cytomine_sdk_gen.api.reviewed_annotation_api import ReviewedAnnotationApi
    from cytomine_sdk_gen.api.roi_annotation_api import RoiAnnotationApi
    from cytomine_sdk_gen.api.role_api import RoleApi
    from cytomine_sdk_gen.api.server_api import ServerApi
    from cytomine_sdk_gen.api.slice_instance_api import SliceInstanceApi
    from cytomine_sdk_gen.api.software_api import SoftwareApi
    from cytomine_sdk_gen.api.software_parameter_api import SoftwareParameterApi
    from cytomine_sdk_gen.api.software_parameter_constraint_api import SoftwareParameterConstraintApi
    from cytomine_sdk_gen.api.statistics_api import StatisticsApi
    from cytomine_sdk_gen.api.storage_api import StorageApi
    from cytomine_sdk_gen.api.storage_member_api import StorageMemberApi
    from cytomine_sdk_gen.api.tag_api import TagApi
    from cytomine_sdk_gen.api.tag_association_api import TagAssociationApi
    from cytomine_sdk_gen.api.task_api import TaskApi
    from cytomine_sdk_gen.api.term_api import TermApi
    from cytomine_sdk_gen.api.track_api import TrackApi
    from cytomine_sdk_gen.api.trusted_source_api import TrustedSourceApi
    from cytomine_sdk_gen.api.upload_api import UploadApi
    from cytomine_sdk_gen.api.uploaded_file_api import UploadedFileApi
    from cytomine_sdk_gen.api.user_api import UserApi
    from cytomine_sdk_gen.api.user_acl_api import UserAclApi
    from cytomine_sdk_gen.api.user_annotation_api import UserAnnotationApi
    from cytomine_sdk_gen.api.user_job_api import UserJobApi
    from cytomine_sdk_gen.api.user_key_api import UserKeyApi
    from cytomine_sdk_gen.api.user_position_api import UserPositionApi
    from cytomine_sdk_gen.api.user_role_api import UserRoleApi
    
else:
    from importlib import import_module

    _exports = {
        "AbstractImageApi": ".abstract_image_api",
        "AbstractSliceApi": ".abstract_slice_api",
        "AdminSessionApi": ".admin_session_api",
        "AlgoAnnotationApi": ".algo_annotation_api",
        "AnnotationApi": ".annotation_api",
        "AnnotationActionApi": ".annotation_action_api",
        "AnnotationCommentApi": ".annotation_comment_api",
        "AnnotationGroupApi": ".annotation_group_api",
        "AnnotationIndexApi": ".annotation_index_api",
        "AnnotationLayerApi": ".annotation_layer_api",
        "AnnotationLinkApi": ".annotation_link_api",
        "AnnotationTermApi": ".annotation_term_api",
        "AnnotationTrackApi": ".annotation_track_api",
        "AppEngineStoreApi": ".app_engine_store_api",
        "AppEngineTaskApi": ".app_engine_task_api",
        "AppEngineTaskRunApi": ".app_engine_task_run_api",
        "AttachedFileApi": ".attached_file_api",
        "CompanionFileApi": ".companion_file_api",
        "ConfigurationApi": ".configuration_api",
        "CustomUiApi": ".custom_ui_api",
        "DescriptionApi": ".description_api",
        "ImageConsultationApi": ".image_consultation_api",
        "ImageFilterApi": ".image_filter_api",
        "ImageGroupApi": ".image_group_api",
        "ImageGroupMemberApi": ".image_group_member_api",
        "ImageInstanceApi": ".image_instance_api",
        "ImageServerApi": ".image_server_api",
        "JobApi": ".job_api",
        "JobDataApi": ".job_data_api",
        "JobParameterApi": ".job_parameter_api",
        "JobTemplateApi": ".job_template_api",
        "JobTemplateAnnotationApi": ".job_template_annotation_api",
        "MetadataSearchApi": ".metadata_search_api",
        "NestedImageInstanceApi": ".nested_image_instance_api",
        "OntologyApi": ".ontology_api",
        "ParameterConstraintApi": ".parameter_constraint_api",
        "ProcessingServerApi": ".processing_server_api",
        "ProjectApi": ".project_api",
        "ProjectCommandApi": ".project_command_api",
        "ProjectConnectionApi": ".project_connection_api",
        "ProjectDefaultLayerApi": ".project_default_layer_api",
        "ProjectImageFilterApi": ".project_image_filter_api",
        "ProjectMemberApi": ".project_member_api",
        "ProjectRepresentativeApi": ".project_representative_api",
        "ProjectSoftwareApi": ".project_software_api",
        "PropertyApi": ".property_api",
        "RelationApi": ".relation_api",
        "RelationTermApi": ".relation_term_api",
        "RetrievalApi": ".retrieval_api",
        "ReviewedAnnotationApi": ".reviewed_annotation_api",
        "RoiAnnotationApi": ".roi_annotation_api",
        "RoleApi": ".role_api",
        "ServerApi": ".server_api",
        "SliceInstanceApi": ".slice_instance_api",
        "SoftwareApi": ".software_api",
        "SoftwareParameterApi": ".software_parameter_api",
        "SoftwareParameterConstraintApi": ".software_parameter_constraint_api",
        "StatisticsApi": ".statistics_api",
        "StorageApi": ".storage_api",
        "StorageMemberApi": ".storage_member_api",
        "TagApi": ".tag_api",
        "TagAssociationApi": ".tag_association_api",
        "TaskApi": ".task_api",
        "TermApi": ".term_api",
        "TrackApi": ".track_api",
        "TrustedSourceApi": ".trusted_source_api",
        "UploadApi": ".upload_api",
        "UploadedFileApi": ".uploaded_file_api",
        "UserApi": ".user_api",
        "UserAclApi": ".user_acl_api",
        "UserAnnotationApi": ".user_annotation_api",
        "UserJobApi": ".user_job_api",
        "UserKeyApi": ".user_key_api",
        "UserPositionApi": ".user_position_api",
        "UserRoleApi": ".user_role_api",
    }

    def __getattr__(name: str) -> object:
        if (module_name := _exports.get(name)) is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(module_name, __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(globals().keys() | _exports.keys())
