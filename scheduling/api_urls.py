from django.urls import path

from . import api

urlpatterns = [
    path("menus/", api.MenuListApi.as_view(), name="api-menus"),
    path("menus/<int:pk>/", api.MenuDetailApi.as_view(), name="api-menu-detail"),
    path("menus/<int:pk>/items/", api.MenuItemAddApi.as_view(), name="api-menu-items"),
    path("menus/<int:pk>/publish/", api.MenuPublishApi.as_view(), name="api-menu-publish"),
    path("menus/<int:pk>/choices/", api.ChoicesApi.as_view(), name="api-menu-choices"),
    path("menus/<int:pk>/allocate/", api.AllocateApi.as_view(), name="api-menu-allocate"),
    path("temporary-classes/", api.TemporaryClassListApi.as_view(),
         name="api-temporary-classes"),
    path("temporary-classes/<int:pk>/", api.TemporaryClassDetailApi.as_view(),
         name="api-temporary-class-detail"),
    path("temporary-classes/<int:pk>/members/", api.MembersApi.as_view(),
         name="api-temporary-class-members"),
    path("placements/<int:pk>/move/", api.PlacementMoveApi.as_view(),
         name="api-placement-move"),
    path("placements/swap/", api.PlacementSwapApi.as_view(), name="api-placement-swap"),
]
