def test_root_sends_a_signed_out_visitor_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")


def test_each_role_lands_on_its_home_page(client, world, login_as):
    homes = {
        "station": "/dealer/",
        "auditor": "/oem/review",
        "finance": "/settlement/",
        "supplier": "/settlement/chargebacks",
        "admin": "/admin/masterdata/",
    }
    for role, path in homes.items():
        c = login_as(role)
        response = c.get("/")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(path), role
        page = c.get(path)
        assert page.status_code == 200, role
        c.post("/logout")
